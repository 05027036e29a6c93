import type { ErrorCode } from "@zkguest/protocol";
import pg from "pg";
import type { JobStatus, JobView } from "../backend.js";
import { JobSignals } from "../job-signals.js";
import type { Json } from "../json.js";

/** The channel a job's change is announced on (its id is the payload). */
export const JOB_CHANNEL = "zkguest_jobs";

export type JobKind = "prove" | "execute";
/** A job's status in the table: an execute job ends `executed` (it is not a prove job the API lists). */
export type StoredStatus = JobStatus | "executed";
export const FINISHED: readonly StoredStatus[] = ["proved", "executed", "failed"];

export interface JobRow {
  readonly id: string;
  readonly owner: string;
  readonly program: string;
  readonly disk: string;
  readonly kind: JobKind;
  readonly args: string;
  readonly status: StoredStatus;
  readonly attempts: number;
  readonly request: string;
  readonly report: string | null;
  readonly error: string | null;
  readonly last_error: string | null;
}

/** The job as the API shows it. */
export function jobView(row: JobRow): JobView {
  return {
    job: row.id,
    program: row.program,
    status: row.status === "executed" ? "proved" : row.status,
    ...(row.report === null ? {} : { report: JSON.parse(row.report) as Json }),
    ...(row.error === null ? {} : { error: JSON.parse(row.error) as { code: ErrorCode; message: string } }),
  };
}

/** Reads a job (any owner: the workers' view). */
export async function readJob(db: pg.Pool | pg.ClientBase, id: string): Promise<JobRow | undefined> {
  const { rows } = await db.query<JobRow>("SELECT * FROM zkguest.jobs WHERE id = $1", [id]);
  return rows[0];
}

/**
 * Marks a job as taken by a worker (one more attempt); gives it, or undefined when it is over
 * already (a retry of a job whose first attempt finished it) or gone.
 */
export async function startJob(pool: pg.Pool, id: string): Promise<JobRow | undefined> {
  const { rows } = await pool.query<JobRow>(
    "UPDATE zkguest.jobs SET status = 'running', attempts = attempts + 1, updated_at = now() WHERE id = $1 AND status IN ('queued', 'running') RETURNING *",
    [id],
  );
  return rows[0];
}

/** Ends a job, once: the first attempt to finish it wins, a late one (a worker that was given up on) changes nothing. */
export async function finishJob(pool: pg.Pool, id: string, status: StoredStatus, report: Json | undefined, error: { code: ErrorCode; message: string } | undefined): Promise<boolean> {
  const { rows } = await pool.query(
    `UPDATE zkguest.jobs SET status = $2, report = $3, error = $4, updated_at = now()
     WHERE id = $1 AND status IN ('queued', 'running') RETURNING pg_notify('${JOB_CHANNEL}', id::text)`,
    [id, status, report === undefined ? null : JSON.stringify(report), error === undefined ? null : JSON.stringify(error)],
  );
  return rows.length === 1;
}

/** Keeps the last attempt's failure, for the error of a job that runs out of attempts. */
export async function noteAttemptError(pool: pg.Pool, id: string, message: string): Promise<void> {
  await pool.query("UPDATE zkguest.jobs SET last_error = $2 WHERE id = $1", [id, message.slice(0, 2000)]);
}

/** Forgets finished jobs older than `retentionMs`, and the disk commit records of runs that can no longer be retried (their job is over or gone). */
export async function pruneJobs(pool: pg.Pool, retentionMs: number): Promise<void> {
  const seconds = Math.ceil(retentionMs / 1000);
  await pool.query(`DELETE FROM zkguest.jobs WHERE status IN ('proved', 'executed', 'failed') AND updated_at < now() - make_interval(secs => $1)`, [seconds]);
  await pool.query(
    `DELETE FROM zkguest.disk_commits c WHERE committed_at < now() - make_interval(secs => $1)
     AND NOT EXISTS (SELECT 1 FROM zkguest.jobs j WHERE j.id = c.run AND j.status IN ('queued', 'running'))`,
    [seconds],
  );
}

/**
 * Hears of job changes (LISTEN on a connection of its own, made again whenever it drops) and
 * wakes the waiters. A notification can be missed while the connection is down, so waiters also
 * read their job again at least every `POLL_MS`, and all are woken when it is back.
 */
export class JobEvents {
  readonly signals = new JobSignals();
  private client: pg.Client | undefined;
  private closed = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(
    private readonly connectionString: string,
    private readonly onError: (err: Error) => void,
  ) {}

  async start(): Promise<void> {
    await this.connect();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    this.signals.notifyAll();
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.connectionString, application_name: "zkguest-events", keepAlive: true });
    const lost = (err?: Error) => {
      if (this.client !== client) return;
      this.client = undefined;
      if (err) this.onError(err);
      void client.end().catch(() => {});
      this.reconnectSoon();
    };
    client.on("error", lost);
    client.on("end", () => lost());
    client.on("notification", (n) => {
      if (n.payload) this.signals.notify(n.payload);
    });
    this.client = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${JOB_CHANNEL}`);
      this.signals.notifyAll();
    } catch (e) {
      lost(e as Error);
    }
  }

  private reconnectSoon(): void {
    if (this.closed) return;
    clearTimeout(this.retry);
    this.retry = setTimeout(() => void this.connect(), 1_000);
    this.retry.unref();
  }
}
