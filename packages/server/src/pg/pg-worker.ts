import { Host, type HostOptions, type RunReport } from "@zkguest/host-sdk";
import { isZkguestError, type Value } from "@zkguest/protocol";
import fs from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import path from "node:path";
import type pg from "pg";
import type { Job, PgBoss } from "pg-boss";
import { reportJson } from "../json.js";
import { createPool, migrate } from "./db.js";
import { diskRow, PgPhaseDisk, Replicas } from "./disk-blocks.js";
import { finishJob, noteAttemptError, pruneJobs, readJob, startJob, type JobRow } from "./pg-jobs.js";
import { PgRegistry } from "./pg-registry.js";
import { GAVE_UP_QUEUE, RUNS_QUEUE, startQueue, type QueueOptions, type RunMessage } from "./queue.js";

export interface WorkerOptions {
  /** postgres://... */
  readonly database: string;
  /** Sandbox workers (the host's pool; default: the number of CPUs). */
  readonly workers?: number;
  /** Runs taken at once (default: twice the sandbox workers, so that proving overlaps the guests' phases). */
  readonly concurrency?: number;
  /** The host's options (prover, devMode, limits, ...). */
  readonly host?: Omit<HostOptions, "registry" | "dataDir" | "poolSize">;
  readonly queue?: QueueOptions;
  /** Where this worker keeps its disk replicas (default: a temporary directory, removed at close). */
  readonly replicaDir?: string;
  /** How long finished jobs are kept (default 7 days). */
  readonly jobRetentionMs?: number;
  /** How long close() lets running jobs finish before they are left to be retried elsewhere (default 30 s). */
  readonly closeGraceMs?: number;
  /** Told of background trouble; default: stderr. */
  readonly onError?: (err: Error) => void;
}

const PRUNE_EVERY_MS = 3600 * 1000;
/** How often a worker looks for runs no notification announced (retries, once their delay is over). */
const POLL_SECONDS = 2;

/**
 * A worker: takes runs from the queue (pg-boss: retries with backoff, heartbeats, dead
 * letters), runs them on a host whose disks are in PostgreSQL (PgPhaseDisk), and records how
 * each job ended, once. Any number of workers, on any machines, share the work.
 *
 * A killed worker loses nothing: its job's heartbeat stops, pg-boss gives it to another
 * worker; the phase it was in rolled back with its connection; a phase that had already taken
 * effect is not applied again (zkguest.disk_commits); a job it had finished is not run again.
 */
export class PgWorker {
  private pruner: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly boss: PgBoss,
    private readonly host: Host,
    private readonly replicas: Replicas,
    private readonly closeGraceMs: number,
  ) {}

  static async start(options: WorkerOptions): Promise<PgWorker> {
    const onError = options.onError ?? ((err: Error) => console.error(`zkguest worker: ${err.message}`));
    const workers = options.workers ?? availableParallelism();
    const concurrency = options.concurrency ?? 2 * workers;
    const pool = createPool(options.database, concurrency + 4, onError);
    let boss: PgBoss | undefined;
    let host: Host | undefined;
    try {
      await migrate(pool);
      boss = await startQueue(options.database, options.queue ?? {}, onError);
      host = await Host.create({ ...options.host, registry: new PgRegistry(pool), poolSize: workers });
      const replicas = new Replicas(options.replicaDir ?? fs.mkdtempSync(path.join(tmpdir(), "zkguest-worker-replicas-")));
      const worker = new PgWorker(pool, boss, host, replicas, options.closeGraceMs ?? 30_000);
      // New runs wake the workers (NOTIFY); retried ones (due later) are found by polling, which must not wait long.
      const polling = { pollingIntervalSeconds: POLL_SECONDS, notifyPollingIntervalSeconds: POLL_SECONDS };
      await boss.work<RunMessage>(RUNS_QUEUE, { ...polling, localConcurrency: concurrency }, ([job]) => worker.run(job!));
      await boss.work<RunMessage>(GAVE_UP_QUEUE, { ...polling, localConcurrency: 1 }, ([job]) => worker.gaveUp(job!));
      const retention = options.jobRetentionMs ?? 7 * 24 * 3600 * 1000;
      worker.pruner = setInterval(() => void pruneJobs(pool, retention).catch(onError), PRUNE_EVERY_MS).unref();
      return worker;
    } catch (e) {
      await boss?.stop({ graceful: false }).catch(() => {});
      await host?.close();
      await pool.end().catch(() => {});
      throw e;
    }
  }

  /** Stops taking runs, lets the running ones finish (within the grace; the rest are retried elsewhere), and releases everything. */
  close(): Promise<void> {
    return (this.closing ??= (async () => {
      clearInterval(this.pruner);
      await this.boss.stop({ graceful: true, timeout: this.closeGraceMs }).catch(() => {});
      await this.host.close();
      await this.pool.end().catch(() => {});
      this.replicas.close();
    })());
  }

  /** One attempt at a run. Throwing hands the job back to pg-boss (retried, or given up on after its retries). */
  private async run(job: Job<RunMessage>): Promise<void> {
    const row = await startJob(this.pool, job.data.job);
    if (row === undefined) return; // over already: an earlier attempt finished it
    let report: RunReport;
    try {
      report = await this.runOnHost(row);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (isZkguestError(e) && (e.code === "not_found" || e.code === "malformed_frame")) {
        // The program or the arguments are wrong, and will be at every attempt.
        await finishJob(this.pool, row.id, "failed", undefined, { code: e.code, message });
        return;
      }
      await noteAttemptError(this.pool, row.id, message).catch(() => {});
      throw e;
    }
    const status = report.status === "failed" ? "failed" : row.kind === "prove" ? "proved" : "executed";
    const error = report.error === undefined ? undefined : { code: report.error.code, message: report.error.message };
    await finishJob(this.pool, row.id, status, reportJson(report), error);
  }

  private async runOnHost(row: JobRow): Promise<RunReport> {
    const disk = new PgPhaseDisk(this.pool, this.replicas, await diskRow(this.pool, row.disk, false), row.id);
    const args = JSON.parse(row.args) as Value;
    return row.kind === "prove" ? this.host.prove(row.program, args, { disk }) : this.host.execute(row.program, args, { disk });
  }

  /** A run that failed every attempt (or whose workers all died): the job is failed, with the last attempt's error. */
  private async gaveUp(job: Job<RunMessage>): Promise<void> {
    const row = await readJob(this.pool, job.data.job);
    if (row === undefined) return;
    const why = row.last_error ?? "its worker stopped answering (killed, or cut off from the database)";
    await finishJob(this.pool, row.id, "failed", undefined, { code: "internal", message: `the job was given up after ${row.attempts} attempts: ${why}` });
  }
}
