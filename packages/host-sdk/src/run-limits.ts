import { DEFAULT_LIMITS, type Limits } from "@zkguest/protocol";
import { DEFAULT_ENGINE_LIMITS, type EngineLimits } from "./engine/engine.js";

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

/**
 * `base` with the fields of `override` that are set. Throws a RangeError naming the field when
 * a value is not a positive safe integer: a wrong limit is the caller's bug, not the guest's.
 */
export function resolveLimits(base: RunLimits, override: Partial<RunLimits> = {}): RunLimits {
  const out: Record<string, number> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    if (value === undefined) continue;
    if (!(key in base)) throw new RangeError(`limits.${key}: no such limit (known: ${Object.keys(base).join(", ")})`);
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0) {
      throw new RangeError(`limits.${key}: expected a positive integer, got ${String(value)}`);
    }
    out[key] = value;
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
