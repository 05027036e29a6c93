import { parentPort, workerData } from "node:worker_threads";
import type { LoadedGuest } from "../engine/engine.js";
import { LazyDisk } from "../session/disk.js";
import { errorRecord, runErrorOf, runPhase, type PhaseOutcome } from "../session/session.js";
import { engineFor } from "./engines.js";
import { JournalWriter } from "./journal.js";
import { Lru } from "./lru.js";
import type { DoneMessage, JobMessage, WorkerConfig } from "./messages.js";

/**
 * A pool worker: runs one phase at a time, each on a fresh guest instance, and keeps the
 * compiled guests (LoadedGuest per program id) for the next phases of the same programs.
 * Everything the phase records goes to the shared journal as well, for the main thread to read
 * back if it has to terminate this thread.
 */
const config = workerData as WorkerConfig;
const journal = new JournalWriter(config.journal);
const guests = new Lru<string, LoadedGuest>(config.cacheSize, (guest) => guest.dispose());
const port = parentPort!;

port.on("message", (job: JobMessage) => {
  void runJob(job)
    // runPhase never throws; anything that still does here is a host bug, reported as the phase's failure.
    .catch((e: unknown): DoneMessage => ({ seq: job.seq, outcome: failed(job, e, 0), cached: false }))
    .then((done) => {
      journal.idle();
      port.postMessage(done);
    });
});

async function runJob(job: JobMessage): Promise<DoneMessage> {
  journal.begin(job.seq);
  const started = performance.now();
  let guest: LoadedGuest;
  try {
    guest = await loadGuest(job);
  } catch (e) {
    return { seq: job.seq, outcome: failed(job, e, performance.now() - started), cached: false };
  }
  const disk = new LazyDisk(job.image, { bytes: job.input.limits.quotaBytes, files: job.input.limits.quotaFiles });
  journal.running();
  let outcome = runPhase(guest, disk, job.input, journal);
  try {
    disk.close();
  } catch (e) {
    // The phase's writes may not have reached the disk: the phase failed, whatever the guest did.
    const error = runErrorOf(e);
    const closing = { ...error, message: `closing the program's disk failed: ${error.message}` };
    outcome = {
      ...outcome,
      error: outcome.error ?? closing,
      logs: [...outcome.logs, errorRecord(job.input.phase, closing)],
    };
  }
  return { seq: job.seq, outcome, cached: true };
}

async function loadGuest(job: JobMessage): Promise<LoadedGuest> {
  const engine = await engineFor(job.engine, config.memoryBytes);
  const cached = guests.get(job.program);
  if (cached !== undefined) return cached;
  if (job.code === undefined) throw new Error(`program ${job.program} is not compiled in this worker and its code was not sent`);
  const guest = engine.load(job.code);
  guests.set(job.program, guest);
  return guest;
}

/** A phase that could not run: a guest that could not be loaded (invalid code, an engine that fails to start), or a host bug. */
function failed(job: JobMessage, e: unknown, durationMs: number): PhaseOutcome {
  const error = runErrorOf(e);
  return {
    phase: job.input.phase,
    error,
    logs: [errorRecord(job.input.phase, error)],
    files: [],
    hostCalls: 0,
    bytesStored: 0,
    peakMemoryBytes: 0,
    durationMs,
  };
}
