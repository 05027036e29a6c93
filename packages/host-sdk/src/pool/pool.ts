import { ZkguestError } from "@zkguest/protocol";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { DEFAULT_RUN_LIMITS } from "../run-limits.js";
import type { RunError } from "../report.js";
import { errorRecord, type PhaseOutcome } from "../session/session.js";
import { createJournalBuffer, JournalReader, JournalState, sharedNow } from "./journal.js";
import { Lru } from "./lru.js";
import type { DoneMessage, JobMessage, PhaseJob, WorkerConfig } from "./messages.js";
import { Watchdog, type Watched } from "./watchdog.js";

export interface PoolOptions {
  /** Worker threads (default: the number of CPUs). */
  readonly size?: number;
  /**
   * The guest stack the workers are sized for (default: the default run limit). A worker's
   * native stack is 16 times this (QuickJS needs that much native stack per byte of its own,
   * see quickjs-module.ts), and a WebAssembly guest runs on that native stack directly.
   */
  readonly stackBytes?: number;
  /**
   * The largest guest memory limit the workers are sized for (default: the default run limit).
   * A worker's QuickJS module can never hold more than this plus the engine's headroom (see
   * memoryCapFor in engine/quickjs-memory.ts); a JS guest given a larger limit stops there.
   */
  readonly memoryBytes?: number;
  /** Each worker's JS heap (default 256 MiB). A worker that runs out of it is replaced; its phase fails with the memory limit. */
  readonly heapBytes?: number;
  /** How long past its time limit a guest may run before its worker is terminated (default 250 ms). */
  readonly graceMs?: number;
  /** How long a worker may take to load an engine and compile a guest (default 60 s). */
  readonly loadTimeoutMs?: number;
  /** Bytes of each worker's journal: the logs that survive a terminated worker (default 2 MiB). */
  readonly journalBytes?: number;
  /** Compiled guests each worker keeps (default 32). */
  readonly cacheSize?: number;
  /** The worker script (default: pool/worker.js). For tests, and hosts that wrap the worker. */
  readonly workerUrl?: URL;
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

/** One worker thread of the pool, replaced when it dies or is terminated. */
interface Slot {
  worker: Worker | undefined;
  journal: JournalReader;
  /** Mirror of the programs the worker holds compiled. */
  programs: Lru<string, true>;
  running: Running | undefined;
  /** What the worker died of, between its 'error' and 'exit' events. */
  died: Error | undefined;
}

/**
 * A pool of worker threads that run guest phases: reused, never spawned per run. A job runs on
 * an idle worker (preferably one that has its program compiled), with a hard stop: the
 * watchdog terminates a worker whose guest runs past its time limit plus a grace, and the
 * phase fails with `limit_exceeded` (`time`) keeping what the journal recorded. A worker that
 * dies (runs out of heap, crashes) fails its phase with a typed error; either way a new worker
 * takes its place and the host goes on.
 */
export class WorkerPool {
  readonly size: number;
  private readonly slots: Slot[];
  private readonly queue: Queued[] = [];
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
      cacheSize: options.cacheSize ?? 32,
      workerUrl: options.workerUrl ?? new URL("./worker.js", import.meta.url),
    };
    this.watchdog = new Watchdog(Math.max(5, Math.min(50, Math.floor(this.options.graceMs / 4))), sharedNow);
    this.slots = Array.from({ length: this.size }, () => {
      // Every field is set by spawn().
      const slot = { running: undefined } as Slot;
      this.spawn(slot);
      return slot;
    });
  }

  /** Workers started (the first ones included), phases stopped by the watchdog, workers that died. */
  get stats(): Readonly<{ workersStarted: number; hardStops: number; workersDied: number }> {
    return { ...this.counts };
  }

  /** Runs one phase. Resolves with its outcome, failed or not; rejects only when the pool is closed. */
  run(job: PhaseJob): Promise<PhaseOutcome> {
    if (this.closed) return Promise.reject(new ZkguestError("invalid_state", "the worker pool is closed"));
    return new Promise((resolve, reject) => {
      this.queue.push({ job, resolve, reject });
      this.dispatch();
    });
  }

  /** Terminates the workers; phases still queued or running are rejected. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.watchdog.stop();
    const closedError = () => new ZkguestError("invalid_state", "the worker pool was closed before the phase ended");
    for (const queued of this.queue.splice(0)) queued.reject(closedError());
    await Promise.all(
      this.slots.map(async (slot) => {
        slot.running?.reject(closedError());
        slot.running = undefined;
        const worker = slot.worker;
        slot.worker = undefined;
        await worker?.terminate();
      }),
    );
  }

  /** Starts a worker in `slot`, with a fresh journal (the old worker may not be quite gone yet). */
  private spawn(slot: Slot): Worker {
    const buffer = createJournalBuffer(this.options.journalBytes);
    const config: WorkerConfig = { journal: buffer, cacheSize: this.options.cacheSize, memoryBytes: this.options.memoryBytes };
    this.counts.workersStarted++;
    const worker = new Worker(this.options.workerUrl, {
      workerData: config,
      resourceLimits: {
        stackSizeMb: Math.max(4, Math.ceil((16 * this.options.stackBytes) / MIB)),
        maxOldGenerationSizeMb: Math.ceil(this.options.heapBytes / MIB),
      },
    });
    worker.unref();
    worker.on("message", (done: DoneMessage) => this.finished(slot, worker, done));
    worker.on("error", (error) => {
      if (slot.worker === worker) slot.died = error;
    });
    worker.on("exit", (code) => this.exited(slot, worker, code));
    slot.worker = worker;
    slot.journal = new JournalReader(buffer);
    slot.programs = new Lru(this.options.cacheSize);
    slot.died = undefined;
    return worker;
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const idle = this.slots.filter((s) => s.running === undefined);
      if (idle.length === 0) return;
      const next = this.queue.shift()!;
      const slot = idle.find((s) => s.programs.has(next.job.program)) ?? idle.find((s) => s.worker !== undefined) ?? idle[0]!;
      this.start(slot, next);
    }
  }

  private start(slot: Slot, queued: Queued): void {
    const worker = slot.worker ?? this.spawn(slot);
    const { job } = queued;
    const seq = ++this.seq;
    const running: Running = {
      ...queued,
      seq,
      postedAt: sharedNow(),
      watched: {
        deadline: () => this.deadline(slot, running),
        expire: () => this.hardStop(slot, running),
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
    worker.ref();
    worker.postMessage(message);
    this.watchdog.watch(running.watched);
  }

  /** Until the worker has begun the job, or while it loads, the load timeout; then the guest's time limit plus the grace. */
  private deadline(slot: Slot, running: Running): number {
    const journal = slot.journal;
    if (journal.seq !== running.seq || journal.state === JournalState.Loading) return running.postedAt + this.options.loadTimeoutMs;
    if (journal.state === JournalState.Running) return journal.startedAt + running.job.input.limits.timeMs + this.options.graceMs;
    return Infinity; // done: its message is on the way
  }

  private finished(slot: Slot, worker: Worker, done: DoneMessage): void {
    const running = slot.running;
    if (slot.worker !== worker || running === undefined || running.seq !== done.seq) return;
    this.watchdog.unwatch(running.watched);
    if (done.cached) slot.programs.set(running.job.program, true);
    else slot.programs.delete(running.job.program);
    slot.running = undefined;
    worker.unref();
    running.resolve(done.outcome);
    this.dispatch();
  }

  /** The watchdog's hard stop: the guest is past its deadline and cannot be interrupted from its own thread. */
  private hardStop(slot: Slot, running: Running): void {
    if (slot.running !== running) return;
    this.counts.hardStops++;
    const loading = slot.journal.seq !== running.seq || slot.journal.state !== JournalState.Running;
    const { timeMs } = running.job.input.limits;
    const error: RunError = loading
      ? { code: "internal", message: `the worker did not load the engine and the guest within ${this.options.loadTimeoutMs} ms; it was terminated` }
      : {
          code: "limit_exceeded",
          limit: "time",
          message: `the guest ran for more than ${timeMs} ms and did not stop (hard stop after ${timeMs + this.options.graceMs} ms: its worker was terminated)`,
        };
    this.replace(slot, running, error);
  }

  private exited(slot: Slot, worker: Worker, code: number): void {
    if (slot.worker !== worker) return; // terminated and replaced already
    const died = slot.died;
    slot.worker = undefined;
    this.counts.workersDied++;
    const running = slot.running;
    if (running === undefined || this.closed) return; // an idle worker: a new one starts with the next job
    const outOfMemory = (died as { code?: string } | undefined)?.code === "ERR_WORKER_OUT_OF_MEMORY";
    const error: RunError = outOfMemory
      ? { code: "limit_exceeded", limit: "memory", message: `the worker running the guest ran out of its ${Math.ceil(this.options.heapBytes / MIB)} MiB heap and was replaced` }
      : {
          code: "internal",
          message: `the worker running the guest died (${died ? died.message : `exit code ${code}`}) and was replaced`,
          ...(died?.stack === undefined ? {} : { stack: died.stack }),
        };
    this.replace(slot, running, error);
  }

  /** Fails `running` with `error`, keeping what its journal recorded, and puts a new worker in the slot. */
  private replace(slot: Slot, running: Running, error: RunError): void {
    this.watchdog.unwatch(running.watched);
    slot.running = undefined;
    const phase = running.job.input.phase;
    const journal = slot.journal;
    const recovered = journal.recover(phase);
    const old = slot.worker;
    if (old !== undefined) {
      slot.worker = undefined;
      void old.terminate();
    }
    if (!this.closed) this.spawn(slot);
    const logs = recovered.logs;
    if (recovered.dropped > 0) {
      logs.push({ phase, source: "host", level: "warn", message: `${recovered.dropped} records of this phase did not fit in the worker's journal and were lost with it` });
    }
    logs.push(errorRecord(phase, error));
    const startedAt = journal.seq === running.seq && journal.startedAt > running.postedAt ? journal.startedAt : running.postedAt;
    running.resolve({
      phase,
      error,
      logs,
      files: recovered.files,
      hostCalls: recovered.hostCalls,
      bytesStored: recovered.bytesStored,
      peakMemoryBytes: recovered.peakMemoryBytes,
      durationMs: sharedNow() - startedAt,
    });
    this.dispatch();
  }
}
