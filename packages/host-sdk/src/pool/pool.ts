import { ZkguestError } from "@zkguest/protocol";
import { availableParallelism } from "node:os";
import { DEFAULT_RUN_LIMITS } from "../run-limits.js";
import type { RunError } from "../report.js";
import { errorRecord, type PhaseOutcome } from "../session/session.js";
import { FairQueue } from "./fair-queue.js";
import { JournalState, sharedNow } from "./journal.js";
import type { DoneMessage, JobMessage, PhaseJob } from "./messages.js";
import { Sandbox, type SandboxExit } from "./sandbox.js";
import { Watchdog, type Watched } from "./watchdog.js";

export interface PoolOptions {
  /** Sandbox processes (default: the number of CPUs). */
  readonly size?: number;
  /**
   * The guest stack the sandboxes are sized for (default: the default run limit). A sandbox's
   * native stack is 16 times this (QuickJS needs that much native stack per byte of its own,
   * see quickjs-module.ts), and a WebAssembly guest runs on that native stack directly.
   */
  readonly stackBytes?: number;
  /**
   * The largest guest memory limit the sandboxes are sized for (default: the default run limit).
   * A sandbox's QuickJS module can never hold more than this plus the engine's headroom (see
   * memoryCapFor in engine/quickjs-memory.ts); a JS guest given a larger limit stops there.
   */
  readonly memoryBytes?: number;
  /**
   * Each sandbox's JS heap (default 256 MiB). A sandbox that runs out of it, or dies of anything
   * else, is replaced; its phase fails (`limit_exceeded` memory, or `internal`).
   */
  readonly heapBytes?: number;
  /** How long past its time limit a guest may run before its sandbox is killed (default 250 ms). */
  readonly graceMs?: number;
  /** How long a sandbox may take to start, load an engine and compile a guest (default 60 s). */
  readonly loadTimeoutMs?: number;
  /** Bytes of each sandbox's journal: the logs that survive a killed sandbox (default 2 MiB). */
  readonly journalBytes?: number;
  /** Bytes of compiled guests (code, compiled module, snapshot) each sandbox keeps (default 128 MiB). */
  readonly cacheBytes?: number;
  /** The sandbox's script (default: pool/sandbox-process.js). For tests, and hosts that wrap it. */
  readonly sandboxUrl?: URL;
}

const MIB = 1024 * 1024;

interface Queued {
  readonly job: PhaseJob;
  readonly resolve: (outcome: PhaseOutcome) => void;
  readonly reject: (error: Error) => void;
}

interface Running extends Queued {
  readonly seq: number;
  readonly postedAt: number;
  readonly watched: Watched;
}

/** One sandbox process of the pool, replaced when it dies or is killed. */
interface Slot {
  sandbox: Sandbox | undefined;
  /** Mirror of the programs the sandbox holds compiled (it says which it drops). */
  programs: Set<string>;
  running: Running | undefined;
}

/**
 * A pool of sandbox processes that run guest phases: reused, never spawned per run. A job runs
 * in an idle sandbox (preferably one that has its program compiled), taken from the queue fairly
 * between tenants (fair-queue.ts), with a hard stop: the watchdog kills a sandbox whose guest
 * runs past its time limit plus a grace, and the phase fails with `limit_exceeded` (`time`)
 * keeping what the journal recorded. A sandbox that dies (runs out of heap, crashes, is killed
 * from outside) fails its phase with a typed error; either way a new sandbox takes its place and
 * the host goes on. Nothing a guest does can end the host's process: guests run in other ones.
 */
export class WorkerPool {
  readonly size: number;
  private readonly slots: Slot[];
  private readonly queue = new FairQueue<Queued>();
  private readonly watchdog: Watchdog;
  private readonly options: Required<Omit<PoolOptions, "size">>;
  private seq = 0;
  private closed = false;
  private readonly counts = { workersStarted: 0, hardStops: 0, workersDied: 0 };

  constructor(options: PoolOptions = {}) {
    this.size = options.size ?? availableParallelism();
    if (!Number.isSafeInteger(this.size) || this.size < 1) throw new RangeError(`pool size: expected a positive integer, got ${this.size}`);
    this.options = {
      stackBytes: options.stackBytes ?? DEFAULT_RUN_LIMITS.stackBytes,
      memoryBytes: options.memoryBytes ?? DEFAULT_RUN_LIMITS.memoryBytes,
      heapBytes: options.heapBytes ?? 256 * MIB,
      graceMs: options.graceMs ?? 250,
      loadTimeoutMs: options.loadTimeoutMs ?? 60_000,
      journalBytes: options.journalBytes ?? 2 * MIB,
      cacheBytes: options.cacheBytes ?? 128 * MIB,
      sandboxUrl: options.sandboxUrl ?? new URL("./sandbox-process.js", import.meta.url),
    };
    this.watchdog = new Watchdog(Math.max(5, Math.min(50, Math.floor(this.options.graceMs / 4))), sharedNow);
    this.slots = Array.from({ length: this.size }, () => {
      const slot: Slot = { sandbox: undefined, programs: new Set(), running: undefined };
      this.spawn(slot);
      return slot;
    });
  }

  /** Sandboxes started (the first ones included), phases stopped by the watchdog, sandboxes that died. */
  get stats(): Readonly<{ workersStarted: number; hardStops: number; workersDied: number }> {
    return { ...this.counts };
  }

  /** The sandbox processes' ids, by slot (undefined while a slot has none). For operators' monitoring, and tests. */
  get pids(): (number | undefined)[] {
    return this.slots.map((s) => s.sandbox?.pid);
  }

  /** Runs one phase. Resolves with its outcome, failed or not; rejects only when the pool is closed. */
  run(job: PhaseJob): Promise<PhaseOutcome> {
    if (this.closed) return Promise.reject(new ZkguestError("invalid_state", "the worker pool is closed"));
    return new Promise((resolve, reject) => {
      this.queue.push(job.tenant ?? job.program, { job, resolve, reject });
      this.dispatch();
    });
  }

  /** Kills the sandboxes; phases still queued or running are rejected. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.watchdog.stop();
    const closedError = () => new ZkguestError("invalid_state", "the worker pool was closed before the phase ended");
    for (const queued of this.queue.drain()) queued.reject(closedError());
    await Promise.all(
      this.slots.map(async (slot) => {
        slot.running?.reject(closedError());
        slot.running = undefined;
        const sandbox = slot.sandbox;
        slot.sandbox = undefined;
        if (sandbox !== undefined) {
          await sandbox.kill();
          sandbox.close();
        }
      }),
    );
  }

  /** Starts a sandbox process in `slot`. */
  private spawn(slot: Slot): Sandbox {
    this.counts.workersStarted++;
    const sandbox = new Sandbox(
      {
        script: this.options.sandboxUrl,
        heapBytes: this.options.heapBytes,
        stackBytes: Math.max(4 * MIB, 16 * this.options.stackBytes),
        config: { journalBytes: this.options.journalBytes, cacheBytes: this.options.cacheBytes, memoryBytes: this.options.memoryBytes },
      },
      (done) => this.finished(slot, sandbox, done),
    );
    void sandbox.exited.then((exit) => this.exited(slot, sandbox, exit));
    slot.sandbox = sandbox;
    slot.programs = new Set();
    return sandbox;
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const idle = this.slots.filter((s) => s.running === undefined);
      if (idle.length === 0) return;
      const next = this.queue.shift()!;
      const slot = idle.find((s) => s.programs.has(next.job.program)) ?? idle.find((s) => s.sandbox !== undefined) ?? idle[0]!;
      this.start(slot, next);
    }
  }

  private start(slot: Slot, queued: Queued): void {
    const sandbox = slot.sandbox ?? this.spawn(slot);
    const { job } = queued;
    const seq = ++this.seq;
    const running: Running = {
      ...queued,
      seq,
      postedAt: sharedNow(),
      watched: {
        deadline: () => this.deadline(slot, running),
        expire: () => void this.hardStop(slot, running),
      },
    };
    slot.running = running;
    const message: JobMessage = {
      seq,
      program: job.program,
      engine: job.engine,
      image: job.image,
      input: job.input,
      ...(slot.programs.has(job.program) ? {} : { code: job.code }),
    };
    sandbox.send(message);
    this.watchdog.watch(running.watched);
  }

  /** Until the sandbox has begun the job, or while it loads, the load timeout; then the guest's time limit plus the grace. */
  private deadline(slot: Slot, running: Running): number {
    const journal = slot.sandbox?.journal.refresh();
    if (journal === undefined) return Infinity; // dead: exited() ends the phase
    if (journal.seq !== running.seq || journal.state === JournalState.Loading) return running.postedAt + this.options.loadTimeoutMs;
    if (journal.state === JournalState.Running) return journal.startedAt + running.job.input.limits.timeMs + this.options.graceMs;
    return Infinity; // done: its message is on the way
  }

  private finished(slot: Slot, sandbox: Sandbox, done: DoneMessage): void {
    const running = slot.running;
    if (slot.sandbox !== sandbox || running === undefined || running.seq !== done.seq) return;
    this.watchdog.unwatch(running.watched);
    for (const program of done.evicted) slot.programs.delete(program);
    if (done.cached) slot.programs.add(running.job.program);
    else slot.programs.delete(running.job.program);
    slot.running = undefined;
    sandbox.unref();
    this.charge(running, done.outcome.durationMs);
    running.resolve(done.outcome);
    this.dispatch();
  }

  /** The watchdog's hard stop: the guest is past its deadline and cannot be interrupted from inside its sandbox. */
  private async hardStop(slot: Slot, running: Running): Promise<void> {
    if (slot.running !== running) return;
    this.counts.hardStops++;
    const journal = slot.sandbox!.journal;
    const loading = journal.seq !== running.seq || journal.state !== JournalState.Running;
    const { timeMs } = running.job.input.limits;
    const error: RunError = loading
      ? { code: "internal", message: `the sandbox did not load the engine and the guest within ${this.options.loadTimeoutMs} ms; it was killed` }
      : {
          code: "limit_exceeded",
          limit: "time",
          message: `the guest ran for more than ${timeMs} ms and did not stop (hard stop after ${timeMs + this.options.graceMs} ms: its sandbox was killed)`,
        };
    await this.replace(slot, running, error);
  }

  /** A sandbox process ended. Expected when the pool killed it (replace, close); otherwise it died, and so did its phase. */
  private exited(slot: Slot, sandbox: Sandbox, exit: SandboxExit): void {
    if (slot.sandbox !== sandbox) return; // killed and replaced already
    this.counts.workersDied++;
    const running = slot.running;
    if (running === undefined || this.closed) {
      // An idle sandbox: a new one starts with the next job.
      slot.sandbox = undefined;
      sandbox.close();
      return;
    }
    void this.replace(slot, running, deathError(exit, this.options.heapBytes));
  }

  /**
   * Fails `running` with `error`, keeping what its journal recorded, and puts a new sandbox in the
   * slot. The old process is gone before the phase's outcome is given: nothing of it can still
   * touch the program's disk when its next phase starts.
   */
  private async replace(slot: Slot, running: Running, error: RunError): Promise<void> {
    this.watchdog.unwatch(running.watched);
    const old = slot.sandbox!;
    slot.sandbox = undefined;
    await old.kill();
    const phase = running.job.input.phase;
    const journal = old.journal;
    const recovered = journal.recover(phase);
    const startedAt = journal.seq === running.seq && journal.startedAt > running.postedAt ? journal.startedAt : running.postedAt;
    old.close();
    slot.running = undefined;
    if (!this.closed) this.spawn(slot);
    const logs = recovered.logs;
    if (recovered.dropped > 0) {
      logs.push({ phase, source: "host", level: "warn", message: `${recovered.dropped} records of this phase did not fit in the sandbox's journal and were lost with it` });
    }
    logs.push(errorRecord(phase, error));
    const durationMs = sharedNow() - startedAt;
    this.charge(running, durationMs);
    running.resolve({
      phase,
      error,
      logs,
      files: recovered.files,
      hostCalls: recovered.hostCalls,
      bytesStored: recovered.bytesStored,
      peakMemoryBytes: recovered.peakMemoryBytes,
      durationMs,
    });
    this.dispatch();
  }

  private charge(running: Running, ms: number): void {
    this.queue.charge(running.job.tenant ?? running.job.program, ms);
  }
}

/** Why a sandbox process died, as its phase's error. The process's own words (stderr, stacks) stay in `stack`, for the host's report only. */
function deathError(exit: SandboxExit, heapBytes: number): RunError {
  const heapMb = Math.ceil(heapBytes / MIB);
  const how = exit.startError !== undefined ? "it could not be started" : exit.signal !== null ? `signal ${exit.signal}` : `exit code ${exit.code}`;
  if (/out of memory|Reached heap limit/i.test(exit.stderr)) {
    return { code: "limit_exceeded", limit: "memory", message: `the sandbox running the guest ran out of its ${heapMb} MiB heap (${how}) and was replaced` };
  }
  // What the process said (an uncaught exception, V8's words on stderr) names host files: the report's stack only, never the message a guest is told.
  const detail = [exit.startError, exit.stderr.trim()].filter((s) => s !== undefined && s !== "").join("\n");
  return { code: "internal", message: `the sandbox running the guest died (${how}) and was replaced`, ...(detail === "" ? {} : { stack: detail }) };
}
