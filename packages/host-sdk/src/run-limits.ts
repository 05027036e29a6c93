import { DEFAULT_LIMITS, type Limits } from "@zkguest/protocol";
import { DEFAULT_ENGINE_LIMITS, type EngineKind, type EngineLimits } from "./engine/engine.js";
import { ENGINE_HEADROOM_BYTES, memoryCapFor } from "./engine/quickjs-memory.js";
import { MAX_QUICKJS_STACK_BYTES } from "./engine/quickjs-module.js";
import { MAX_PAGES, PAGE_BYTES } from "./engine/wasm-module.js";

/**
 * The limits of one run (SPEC.md §6), as the host configures them. Sizes in bytes, time in
 * milliseconds. Every field is a positive safe integer.
 */
export interface RunLimits {
  /** The guest's memory (its linear memory, or the JS heap of its sandbox). */
  readonly memoryBytes: number;
  /**
   * The guest's stack. A JS engine applies it per run; WebAssembly guests run on the worker
   * thread's own stack, which is sized once when the pool starts its workers (from the host's limits).
   */
  readonly stackBytes: number;
  /** Wall-clock time of each phase (witness step, entrypoint); a guest past it is stopped, by force if needed. */
  readonly timeMs: number;
  readonly maxFrameBytes: number;
  readonly maxPathBytes: number;
  readonly maxLogMessageBytes: number;
  /** Bytes of log messages and fields in one phase, stdout and stderr included. */
  readonly maxLogBytes: number;
  /** Requests the guest may send in one phase. */
  readonly maxHostCalls: number;
  /** Space the program's disk may hold in use (the volume's used bytes, as the FAT-16 store counts them). */
  readonly quotaBytes: number;
  /** Files and directories the program's disk may hold. */
  readonly quotaFiles: number;
}

/** Safe defaults: generous for a controller, small enough that a hostile guest cannot hurt the host. */
export const DEFAULT_RUN_LIMITS: RunLimits = {
  memoryBytes: DEFAULT_ENGINE_LIMITS.memoryBytes,
  stackBytes: DEFAULT_ENGINE_LIMITS.stackBytes,
  timeMs: DEFAULT_ENGINE_LIMITS.timeMs,
  maxFrameBytes: DEFAULT_ENGINE_LIMITS.maxFrameBytes,
  maxPathBytes: DEFAULT_LIMITS.max_path_bytes,
  maxLogMessageBytes: DEFAULT_LIMITS.max_log_message_bytes,
  maxLogBytes: 1024 * 1024,
  maxHostCalls: 100_000,
  quotaBytes: 16 * 1024 * 1024,
  quotaFiles: 4_096,
};

/** The values of one limit that the engines can honour, and what bounds them. */
export interface LimitRange {
  readonly min: number;
  readonly max: number;
  /** Why the maximum is what it is. */
  readonly why: string;
}

const MiB = 1024 * 1024;
const ANY: LimitRange = { min: 1, max: Number.MAX_SAFE_INTEGER, why: "" };
const both = (range: LimitRange): Record<EngineKind, LimitRange> => ({ js: range, wasm: range });

/**
 * What each engine can honour, limit by limit (every other limit: any positive integer). A
 * limit past these would not be enforced as set: QuickJS's memory cannot grow past its
 * module's 2 GiB, nor its stack past its own 5 MiB; a wasm32 memory has at most 65,536 pages.
 */
const LIMIT_RANGES: Partial<Record<keyof RunLimits, Record<EngineKind, LimitRange>>> = {
  memoryBytes: {
    // The engine keeps ENGINE_HEADROOM_BYTES of the module's memory for itself.
    js: { min: 1, max: memoryCapFor(Infinity) - ENGINE_HEADROOM_BYTES, why: "the QuickJS module's 2 GiB memory, less the engine's 64 MiB" },
    wasm: { min: 1, max: MAX_PAGES * PAGE_BYTES, why: "a wasm32 memory's 65,536 pages" },
  },
  stackBytes: {
    js: { min: 1, max: MAX_QUICKJS_STACK_BYTES, why: "QuickJS's own 5 MiB stack, less a margin" },
    // The pool gives each worker 16 times the stack limit as its thread's native stack.
    wasm: { min: 1, max: 64 * MiB, why: "worker threads' native stack, 16 times the limit, is at most 1 GiB" },
  },
  // Hard stops and timeouts are Node timers, which wait at most 2^31-1 ms.
  timeMs: both({ min: 1, max: 2 ** 31 - 1, why: "the longest a Node timer waits (24.8 days)" }),
  // The hello request announcing every limit is about 250 bytes, and the guest SDK writes
  // files in pieces of max_frame_bytes less 64; a wasm guest's `call` returns a frame's length
  // as an i32.
  maxFrameBytes: both({ min: 1024, max: 2 ** 31 - 1, why: "a wasm guest's call returns a frame's length as an i32" }),
};

/** The range of `limit` for guests of `engine`, or for any guest (the widest, when `engine` is not known yet). */
export function limitRange(limit: keyof RunLimits, engine?: EngineKind): LimitRange {
  const ranges = LIMIT_RANGES[limit];
  if (ranges === undefined) return ANY;
  if (engine !== undefined) return ranges[engine];
  return ranges.js.max >= ranges.wasm.max ? ranges.js : ranges.wasm;
}

/** A limit outside what the engines can honour; the message names it and its range. */
export class LimitRangeError extends RangeError {
  override readonly name = "LimitRangeError";
  constructor(
    readonly limit: keyof RunLimits,
    readonly value: unknown,
    readonly range: LimitRange,
    readonly engine?: EngineKind,
  ) {
    const integer = typeof value === "number" && Number.isSafeInteger(value);
    const what = range.max === Number.MAX_SAFE_INTEGER ? `a positive integer` : `an integer from ${range.min} to ${range.max}${engine === undefined ? "" : ` for ${engine} guests`} (${range.why})`;
    super(`limits.${limit}: expected ${what}, got ${integer ? value : String(value)}`);
  }
}

/**
 * `base` with the fields of `override` that are set, each checked against what the engines
 * can honour: for `engine`'s guests when it is given, else for some guest. Throws a
 * LimitRangeError naming the limit and its range (a wrong limit is the caller's bug, not the
 * guest's), a RangeError for an unknown limit.
 */
export function resolveLimits(base: RunLimits, override: Partial<RunLimits> = {}, engine?: EngineKind): RunLimits {
  const out: Record<string, number> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    if (value === undefined) continue;
    if (!(key in base)) throw new RangeError(`limits.${key}: no such limit (known: ${Object.keys(base).join(", ")})`);
    out[key] = value;
  }
  for (const [key, value] of Object.entries(out)) {
    const limit = key as keyof RunLimits;
    const range = limitRange(limit, engine);
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < range.min || value > range.max) throw new LimitRangeError(limit, value, range, engine);
  }
  return out as unknown as RunLimits;
}

/** The limits as `hello` announces them. */
export function protocolLimits(limits: RunLimits): Limits {
  return {
    max_frame_bytes: limits.maxFrameBytes,
    max_path_bytes: limits.maxPathBytes,
    max_log_message_bytes: limits.maxLogMessageBytes,
    max_log_bytes: limits.maxLogBytes,
    max_host_calls: limits.maxHostCalls,
    quota_bytes: limits.quotaBytes,
    quota_files: limits.quotaFiles,
    memory_bytes: limits.memoryBytes,
    stack_bytes: limits.stackBytes,
    time_ms: limits.timeMs,
  };
}

/** The part of the limits an engine enforces inside the guest. */
export function engineLimits(limits: RunLimits): EngineLimits {
  return { memoryBytes: limits.memoryBytes, stackBytes: limits.stackBytes, timeMs: limits.timeMs, maxFrameBytes: limits.maxFrameBytes };
}
