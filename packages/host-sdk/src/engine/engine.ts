import { DEFAULT_LIMITS, ZkguestError } from "@zkguest/protocol";

/**
 * The contract between the run driver and a sandbox engine (QuickJS for JS guests, the
 * WebAssembly API for wasm32-wasi guests). An engine knows how to move frames in and out of a
 * guest and how to enforce the limits inside the guest; it knows nothing about messages. The
 * driver above it (session/) speaks the protocol: hello, witness.get, proof.result, and the
 * answers to the guest's own requests.
 *
 * Lifetimes, as in quickjs-emscripten: a LoadedGuest is compiled once and may be instantiated
 * many times; each GuestInstance serves one phase of one run and must be disposed.
 */

/**
 * Answers one guest-to-host request frame with the response frame. Synchronous: the guest is
 * blocked inside its host call while the host answers. It may throw a GuestFailure to end the
 * run (a limit crossed); everything else must come back as an `error` frame.
 */
export type HostCallHandler = (request: Uint8Array) => Uint8Array;

/**
 * The guest's clock's epoch, 2024-01-01T00:00:00Z: where a JS guest's Date and a wasm guest's
 * clock_time_get start, and the time stamped (in UTC) on everything a guest writes to its disk.
 * Nothing a guest sees comes from the host's clock or time zone.
 */
export const GUEST_EPOCH_MS = Date.UTC(2024, 0, 1);

/** What an engine enforces inside the guest. Sizes in bytes, time in milliseconds. */
export interface EngineLimits {
  readonly memoryBytes: number;
  readonly stackBytes: number;
  /** Wall-clock budget of one handle() call, enforced by the engine's interrupt/epoch check. */
  readonly timeMs: number;
  readonly maxFrameBytes: number;
}

/** The defaults of the limits an engine enforces; a run's defaults (DEFAULT_RUN_LIMITS) start from these. */
export const DEFAULT_ENGINE_LIMITS: EngineLimits = {
  memoryBytes: 64 * 1024 * 1024,
  stackBytes: 1024 * 1024,
  timeMs: 5_000,
  maxFrameBytes: DEFAULT_LIMITS.max_frame_bytes,
};

/** Which limit a run crossed; named in the error message and the run report. */
export type LimitName =
  | "memory"
  | "stack"
  | "time"
  | "frame_size"
  | "log_bytes"
  | "host_calls"
  | "storage";

/**
 * How a guest's run ended abnormally: it threw, trapped or exited (`guest_error`), or it
 * crossed a limit (`limit_exceeded`, with `limit` set). `guestStack` is the guest's own stack
 * when the engine has one; it is never lost on the way to the report.
 */
export class GuestFailure extends ZkguestError {
  constructor(
    code: "guest_error" | "limit_exceeded",
    message: string,
    readonly limit?: LimitName,
    readonly guestStack?: string,
  ) {
    super(code, message);
  }

  static limitExceeded(limit: LimitName, message: string): GuestFailure {
    return new GuestFailure("limit_exceeded", message, limit);
  }
}

/**
 * The part of a recorded stack a guest may see: its message lines and the guest's own frames,
 * those in its WebAssembly code (`wasm://...`) or in its QuickJS script (`guest.js:3:7`,
 * `native`: QuickJS names no host file). The host's frames (its files' absolute paths, Node's
 * internals) are left out. Undefined when no frame of the guest's is left: the stack of a host
 * failure tells a guest nothing.
 */
export function guestStack(stack: string): string | undefined {
  const lines = stack.split("\n").filter((line) => !FRAME.test(line) || isGuestFrame(line));
  return lines.some((line) => FRAME.test(line)) ? lines.join("\n") : undefined;
}

const FRAME = /^\s*at /;

function isGuestFrame(line: string): boolean {
  // `at name (location)` or `at location`.
  const location = /\(([^()]*)\)\s*$/.exec(line)?.[1] ?? line.replace(FRAME, "").trim();
  return location.startsWith("wasm://") || location === "native" || /^[^/\\:]+(:\d+){1,2}$/.test(location);
}

export interface GuestInstance {
  /**
   * Gives the guest one host-to-guest request frame and returns its response frame. Throws
   * GuestFailure when the guest throws, traps, exits or crosses a limit; the instance is then
   * unusable and must be disposed.
   */
  handle(request: Uint8Array): Uint8Array;
  /** Bytes of guest memory in use now (the peak is tracked by the caller). */
  memoryUsed(): number;
  /** Text the guest wrote outside the protocol (WASI stdout/stderr, console), as log lines. */
  drainOutput(): { level: "info" | "warn"; message: string }[];
  dispose(): void;
}

export interface LoadedGuest {
  readonly engine: EngineKind;
  instantiate(host: HostCallHandler, limits: EngineLimits): GuestInstance;
  /** About how many bytes of the host's memory it keeps between runs (code, compiled code, snapshots): what caches weigh it by. */
  readonly retainedBytes: number;
  dispose(): void;
}

export type EngineKind = "js" | "wasm";

export interface Engine {
  readonly kind: EngineKind;
  /** Compiles or checks guest code once: JS source text, or a WebAssembly module's bytes. */
  load(code: Uint8Array): LoadedGuest;
}
