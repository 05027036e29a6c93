import type { LoadedGuest } from "../engine/engine.js";
import { LazyDisk } from "../session/disk.js";
import { errorRecord, runErrorOf, runPhase, type PhaseOutcome } from "../session/session.js";
import { engineFor } from "./engines.js";
import { JournalWriter } from "./journal.js";
import { Lru } from "../lru.js";
import { JOURNAL_FD, type DoneMessage, type JobMessage, type SandboxConfig } from "./messages.js";

/**
 * A sandbox process: what the pool starts for each of its slots (sandbox.ts). It runs one
 * phase at a time, each on a fresh guest instance, and keeps the compiled guests (LoadedGuest
 * per program id), weighed in the bytes they hold, for the next phases of the same programs.
 * Everything a phase records goes to the journal file as well, for the host to read back if it
 * has to kill this process.
 *
 * Why a process: a guest must never be able to end the host. V8's fatal errors (an
 * out-of-memory in ArrayBuffer allocation or message serialization, a native crash) abort the
 * whole process, whatever a worker thread's resourceLimits say; here they end this process
 * only, and the host replaces it. Guests run on its main thread, whose native stack the host
 * raised at the start (a guest needs 16 times its own: see quickjs-module.ts), with V8's
 * --stack-size and --max-old-space-size set to match.
 *
 * The process never outlives the host: when the IPC channel closes (the host exited or was
 * killed), it exits.
 */
const config = JSON.parse(process.argv[2]!) as SandboxConfig;
const journal = new JournalWriter(JOURNAL_FD, config.journalBytes);
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

process.on("message", (job: JobMessage) => {
  void runJob(job)
    // runPhase never throws; anything that still does here is a host bug, reported as the phase's failure.
    .catch((e: unknown) => ({ outcome: failed(job, e, 0), cached: false }))
    .then(({ outcome, cached }) => {
      journal.idle();
      const done: DoneMessage = { seq: job.seq, outcome, cached: cached && guests.has(job.program), evicted };
      evicted = [];
      process.send!(done);
    });
});
process.on("disconnect", () => process.exit(0));
// The host may have gone while this process started (its 'disconnect' came before the listener).
if (!process.connected) process.exit(0);

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
