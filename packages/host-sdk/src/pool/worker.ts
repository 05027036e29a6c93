import { parentPort, workerData } from "node:worker_threads";
import type { LoadedGuest } from "../engine/engine.js";
import { LazyDisk } from "../session/disk.js";
import { errorRecord, runErrorOf, runPhase, type PhaseOutcome } from "../session/session.js";
import { engineFor } from "./engines.js";
import { JournalWriter } from "./journal.js";
import { Lru } from "./lru.js";
import type { DoneMessage, JobMessage, WorkerConfig } from "./messages.js";

/**
 * A sandbox's worker thread (one per sandbox process; see sandbox-main.ts): runs one phase at a
 * time, each on a fresh guest instance, and keeps the compiled guests (LoadedGuest per program
 * id), weighed in the bytes they hold, for the next phases of the same programs. Everything the
 * phase records goes to the journal file as well, for the host to read back if it has to kill
 * this sandbox.
 */
const config = workerData as WorkerConfig;
const journal = new JournalWriter(config.journalFd, config.journalBytes);
/** Programs dropped from the cache since the last job's answer. */
let evicted: string[] = [];
const guests = new Lru<string, LoadedGuest>(
  config.cacheBytes,
  (guest, program) => {
    guest.dispose();
    evicted.push(program);
  },
  (guest) => guest.retainedBytes,
);
const port = parentPort!;

port.on("message", (job: JobMessage) => {
  void runJob(job)
    // runPhase never throws; anything that still does here is a host bug, reported as the phase's failure.
    .catch((e: unknown) => ({ outcome: failed(job, e, 0), cached: false }))
    .then(({ outcome, cached }) => {
      journal.idle();
      const done: DoneMessage = { kind: "done", seq: job.seq, outcome, cached: cached && guests.has(job.program), evicted };
      evicted = [];
      port.postMessage(done);
    });
});

async function runJob(job: JobMessage): Promise<{ outcome: PhaseOutcome; cached: boolean }> {
  journal.begin(job.seq);
  const started = performance.now();
  let guest: LoadedGuest;
  try {
    guest = await loadGuest(job);
  } catch (e) {
    return { outcome: failed(job, e, performance.now() - started), cached: false };
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
  // Weighed again: a first instance may have taken a snapshot.
  guests.set(job.program, guest);
  return { outcome, cached: true };
}

async function loadGuest(job: JobMessage): Promise<LoadedGuest> {
  const engine = await engineFor(job.engine, config.memoryBytes);
  const cached = guests.get(job.program);
  if (cached !== undefined) return cached;
  if (job.code === undefined) throw new Error(`program ${job.program} is not compiled in this sandbox and its code was not sent`);
  return engine.load(job.code);
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
