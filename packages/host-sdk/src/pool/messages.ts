import type { EngineKind } from "../engine/engine.js";
import type { PhaseInput, PhaseOutcome } from "../session/session.js";

/** One phase of one run, as the pool runs it in one of its sandboxes. */
export interface PhaseJob {
  /** The program id: the key of the sandbox's cache of compiled guests. */
  readonly program: string;
  /** Whose load it is, for fair scheduling between tenants (PoolOptions; default: the program). */
  readonly tenant?: string;
  readonly engine: EngineKind;
  /** The guest's code; sent to a sandbox only when it has not compiled this program already. */
  readonly code: Uint8Array;
  /** The program's disk image. */
  readonly image: string;
  readonly input: PhaseInput;
}

/** What a sandbox process is started with (its first argument, as JSON). */
export interface SandboxConfig {
  /** The script its worker thread runs (pool/worker.js, or a test's wrapper of it). */
  readonly workerUrl: string;
  /** The worker thread's JS heap (old generation) and native stack, in MiB. */
  readonly heapMb: number;
  readonly stackMb: number;
  readonly worker: WorkerConfig;
}

/** What a sandbox's worker thread is started with. */
export interface WorkerConfig {
  /** The journal file's descriptor in the sandbox process, and the bytes of records it may hold. */
  readonly journalFd: number;
  readonly journalBytes: number;
  /** Bytes of compiled guests (code, compiled module, snapshot) a worker keeps, least recently used first out. */
  readonly cacheBytes: number;
  /** The largest guest memory limit the worker's engines are sized for (PoolOptions.memoryBytes). */
  readonly memoryBytes: number;
}

/** Host to sandbox: run this phase. `code` is left out when the sandbox has the program compiled. */
export interface JobMessage {
  readonly seq: number;
  readonly program: string;
  readonly engine: EngineKind;
  readonly code?: Uint8Array;
  readonly image: string;
  readonly input: PhaseInput;
}

/**
 * Sandbox to host: the phase's outcome, whether the sandbox now holds the program compiled, and
 * the programs it dropped from its cache to make room (the host's mirror of the cache stays exact).
 */
export interface DoneMessage {
  readonly kind: "done";
  readonly seq: number;
  readonly outcome: PhaseOutcome;
  readonly cached: boolean;
  readonly evicted: readonly string[];
}

/** Sandbox to host, just before the sandbox process exits because its worker thread died. */
export interface DiedMessage {
  readonly kind: "died";
  /** Node's error code (ERR_WORKER_OUT_OF_MEMORY for a heap exhausted), if any. */
  readonly code?: string;
  readonly message: string;
  readonly stack?: string;
}

export type SandboxMessage = DoneMessage | DiedMessage;

/** A sandbox process's exit code when its worker thread died without taking the process with it. */
export const WORKER_DIED_EXIT_CODE = 70;
