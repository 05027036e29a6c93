import type { EngineKind } from "../engine/engine.js";
import type { PhaseInput, PhaseOutcome } from "../session/session.js";

/** One phase of one run, as the pool runs it on one of its workers. */
export interface PhaseJob {
  /** The program id: the key of the worker's cache of compiled guests. */
  readonly program: string;
  readonly engine: EngineKind;
  /** The guest's code; sent to a worker only when it has not compiled this program already. */
  readonly code: Uint8Array;
  /** The program's disk image. */
  readonly image: string;
  readonly input: PhaseInput;
}

/** What a worker is started with. */
export interface WorkerConfig {
  readonly journal: SharedArrayBuffer;
  /** Compiled guests a worker keeps (least recently used first out). */
  readonly cacheSize: number;
  /** The largest guest memory limit the worker's engines are sized for (PoolOptions.memoryBytes). */
  readonly memoryBytes: number;
}

/** Main thread to worker: run this phase. `code` is left out when the worker has the program compiled. */
export interface JobMessage {
  readonly seq: number;
  readonly program: string;
  readonly engine: EngineKind;
  readonly code?: Uint8Array;
  readonly image: string;
  readonly input: PhaseInput;
}

/** Worker to main thread: the phase's outcome, and whether the worker now holds the program compiled. */
export interface DoneMessage {
  readonly seq: number;
  readonly outcome: PhaseOutcome;
  readonly cached: boolean;
}
