import type { ErrorCode, Fields, LogLevel, Witness } from "@zkguest/protocol";
import type { LimitName } from "./engine/engine.js";
import type { ProofInfo } from "./prover/prover.js";

/** The two phases of a run: the witness step (`witness.get`) and the entrypoint (`proof.result`). */
export type Phase = "witness" | "entrypoint";

/**
 * Why a run or a phase failed. `limit` names the limit when `code` is `limit_exceeded`; `stack`
 * is the guest's stack (or the host's, for a host bug) when there is one.
 */
export interface RunError {
  readonly code: ErrorCode;
  readonly message: string;
  readonly limit?: LimitName;
  readonly stack?: string;
}

/**
 * One log line of a run: what the guest logged (its `log` requests, and its stdout/stderr), or
 * what the host recorded about it (its failure with the stack, errors answered to its requests).
 */
export interface LogRecord {
  readonly phase: Phase;
  readonly source: "guest" | "host";
  readonly level: LogLevel;
  readonly message: string;
  readonly fields?: Fields;
  readonly stack?: string;
}

/** A file the guest wrote during the run, with its size after its last write. */
export interface FileRecord {
  /** The path as the volume stores it: upper-case 8.3 components, `.` and `..` resolved. */
  readonly path: string;
  readonly bytes: number;
}

export interface RunResources {
  /** Wall time of the witness step, the proving and the entrypoint: milliseconds, rounded to the microsecond. */
  readonly witnessMs: number;
  readonly proveMs: number;
  readonly entrypointMs: number;
  /**
   * The most memory the guest was seen holding, over both phases: a sampled high-water mark, not
   * the true peak. It is sampled around each host request and every MEMORY_SAMPLE_CALLS guest
   * requests, so memory held and freed between samples is missed. A sample is, for a JS guest,
   * the larger of how much the run grew the QuickJS module's memory and QuickJS's estimate of its
   * live objects (see QuickJsEngine.memoryUsed); for a wasm guest, its linear memory's size.
   */
  readonly peakMemoryBytes: number;
  /** Requests the guest sent, both phases. */
  readonly hostCalls: number;
  /** Bytes the guest wrote with `fs.store`, both phases. */
  readonly bytesStored: number;
}

/** What `Host.prove` and `Host.execute` return. A failed run is a report too, never an exception. */
export interface RunReport {
  /** The program id. */
  readonly program: string;
  /** `proved` (prove succeeded, entrypoint included), `executed` (a dry run succeeded), or `failed`. */
  readonly status: "proved" | "executed" | "failed";
  /** The first failure of the run, when `status` is `failed`. */
  readonly error?: RunError;
  /** Lower-case hex SHA-256 of the canonical MessagePack encoding of `witnesses`. */
  readonly witnessesHash: string;
  readonly witnesses: readonly Witness[];
  readonly proof?: Uint8Array;
  /** What the prover says about the proof: its public signals, and whether it must not be trusted. */
  readonly proofInfo?: ProofInfo;
  readonly logs: readonly LogRecord[];
  readonly files: readonly FileRecord[];
  readonly resources: RunResources;
}
