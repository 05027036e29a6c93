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
  /** Bytes of records its journal may hold. */
  readonly journalBytes: number;
  /** Bytes of compiled guests (code, compiled module, snapshot) it keeps, least recently used first out. */
  readonly cacheBytes: number;
  /** The largest guest memory limit its engines are sized for (PoolOptions.memoryBytes). */
  readonly memoryBytes: number;
}

/** The journal file's descriptor in a sandbox process (after stdin, stdout, stderr and the IPC channel). */
export const JOURNAL_FD = 4;

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
  readonly seq: number;
  readonly outcome: PhaseOutcome;
  readonly cached: boolean;
  readonly evicted: readonly string[];
}
