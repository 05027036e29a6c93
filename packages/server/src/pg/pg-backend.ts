import { DEFAULT_DISK_BYTES, readArtifact } from "@zkguest/host-sdk";
import { isZkguestError, ZkguestError, type Value } from "@zkguest/protocol";
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type pg from "pg";
import type { PgBoss } from "pg-boss";
import { DEFAULT_MAX_OPEN_JOBS, tooManyJobs, type Backend, type DiskEntry, type JobView } from "../backend.js";
import { requestDigest } from "../canonical-json.js";
import { imageCopy, readDiskEntry } from "../disk-read.js";
import { HttpError } from "../http/problem.js";
import { checkProgramId } from "../ids.js";
import type { Json } from "../json.js";
import { createPool, isDbUnavailable, migrate, transaction, unavailable } from "./db.js";
import { BLOCK_BYTES, diskRow, formattedBlocks, Replicas, writeBlocks, type DiskRow } from "./disk-blocks.js";
import { FINISHED, JobEvents, jobView, readJob, type JobKind, type JobRow } from "./pg-jobs.js";
import { RUNS_QUEUE, startQueue, type QueueOptions, type RunMessage } from "./queue.js";

export interface PgOptions {
  /** postgres://... */
  readonly database: string;
  /** Size of each new program disk (default 16 MiB). */
  readonly diskBytes?: number;
  readonly queue?: QueueOptions;
  /** How long an execute (a dry run on a worker) may take, queueing included, before it is 503 (default 60 s). */
  readonly executeTimeoutMs?: number;
  /** Where this process keeps its replicas of disks it reads (default: a temporary directory, removed at close). */
  readonly replicaDir?: string;
  /** Told of background trouble (a connection lost); default: stderr. */
  readonly onError?: (err: Error) => void;
  /** Jobs an owner may have queued or running (default DEFAULT_MAX_OPEN_JOBS). */
  readonly maxOpenJobs?: number;
}

/** Priority of execute runs in the queue: a client is waiting for them. */
const EXECUTE_PRIORITY = 10;
/** Waiters read their job again at least this often (a notification can be lost while the LISTEN connection is down). */
const REREAD_MS = 2_000;

/**
 * The API's backend on PostgreSQL: programs, disks (as blocks) and jobs in tables, runs queued
 * with pg-boss for the workers (`zkguest worker`, or this process's own). The API process
 * itself never runs a guest.
 */
export class PgBackend implements Backend {
  private closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly boss: PgBoss,
    private readonly events: JobEvents,
    private readonly replicas: Replicas,
    /** The replicas' directory, where image copies on their way to a client go too (removed at close). */
    private readonly replicaDir: string,
    private readonly diskBytes: number,
    private readonly executeTimeoutMs: number,
    private readonly maxOpenJobs: number,
  ) {}

  static async open(options: PgOptions): Promise<PgBackend> {
    const onError = options.onError ?? ((err: Error) => console.error(`zkguest serve: database: ${err.message}`));
    const pool = createPool(options.database, 16, onError);
    try {
      await migrate(pool);
      const boss = await startQueue(options.database, options.queue ?? {}, onError);
      const events = new JobEvents(options.database, onError);
      await events.start();
      const replicaDir = options.replicaDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "zkguest-api-replicas-"));
      return new PgBackend(
        pool,
        boss,
        events,
        new Replicas(replicaDir),
        replicaDir,
        options.diskBytes ?? DEFAULT_DISK_BYTES,
        options.executeTimeoutMs ?? 60_000,
        options.maxOpenJobs ?? DEFAULT_MAX_OPEN_JOBS,
      );
    } catch (e) {
      await pool.end().catch(() => {});
      throw e;
    }
  }

  deploy(owner: string, artifactBytes: Uint8Array): Promise<{ id: string; created: boolean }> {
    const artifact = readArtifact(artifactBytes);
    const id = artifact.manifest.id;
    return this.guard(() =>
      transaction(this.pool, async (client) => {
        await client.query("INSERT INTO zkguest.programs (id, artifact) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING", [id, Buffer.from(artifactBytes)]);
        const { rows } = await client.query<{ id: string }>(
          "INSERT INTO zkguest.disks (owner, program, bytes, block_bytes, generation) VALUES ($1, $2, $3, $4, 1) ON CONFLICT (owner, program) DO NOTHING RETURNING id",
          [owner, id, this.diskBytes, BLOCK_BYTES],
        );
        if (rows[0] === undefined) return { id, created: false };
        await writeBlocks(client, rows[0].id, 1, formattedBlocks(this.diskBytes));
        return { id, created: true };
      }),
    );
  }

  prove(owner: string, program: string, args: Value, idempotencyKey?: string): Promise<{ job: string; created: boolean }> {
    return this.guard(async () => {
      const { id, created } = await this.queueRun(owner, program, "prove", args, idempotencyKey);
      return { job: id, created };
    });
  }

  execute(owner: string, program: string, args: Value): Promise<Json> {
    return this.guard(async () => {
      const { id } = await this.queueRun(owner, program, "execute", args, undefined);
      const deadline = Date.now() + this.executeTimeoutMs;
      for (;;) {
        const row = await readJob(this.pool, id);
        if (row !== undefined && FINISHED.includes(row.status)) {
          await this.pool.query("DELETE FROM zkguest.jobs WHERE id = $1", [id]);
          if (row.report !== null) return JSON.parse(row.report) as Json;
          const error = row.error === null ? { code: "internal", message: "the run ended without a report" } : (JSON.parse(row.error) as { code: string; message: string });
          throw new HttpError(503, "internal", `the dry run could not run: ${error.message}`);
        }
        if (Date.now() >= deadline) {
          // Not run yet: it never will be. Running: it ends on its own, unseen.
          await this.pool.query("UPDATE zkguest.jobs SET status = 'failed', updated_at = now() WHERE id = $1 AND status = 'queued'", [id]);
          throw new HttpError(503, "internal", `no worker finished the dry run within ${this.executeTimeoutMs} ms (are workers running?)`);
        }
        await this.events.signals.wait(id, Math.min(REREAD_MS, deadline - Date.now()));
      }
    });
  }

  job(owner: string, id: string): Promise<JobView | undefined> {
    return this.guard(async () => {
      const { rows } = await this.pool.query<JobRow>("SELECT * FROM zkguest.jobs WHERE id = $1 AND owner = $2 AND kind = 'prove'", [id, owner]);
      return rows[0] === undefined ? undefined : jobView(rows[0]);
    });
  }

  async waitForJob(owner: string, id: string, timeoutMs: number, signal: AbortSignal): Promise<JobView | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const view = await this.job(owner, id);
      if (view === undefined || view.status === "proved" || view.status === "failed" || signal.aborted || Date.now() >= deadline) return view;
      await this.events.signals.wait(id, Math.min(REREAD_MS, deadline - Date.now()), signal);
    }
  }

  readPath(owner: string, program: string, filePath: string, maxBytes: number): Promise<DiskEntry> {
    return this.guard(async () => this.withSnapshot(await this.ownedDisk(owner, program), async (image) => readDiskEntry(image, filePath, maxBytes)));
  }

  image(owner: string, program: string) {
    return this.guard(async () => {
      const copy = path.join(this.replicaDir, `copy-${randomUUID()}.img`);
      await this.withSnapshot(await this.ownedDisk(owner, program), (image) => fs.promises.copyFile(image, copy));
      return imageCopy(copy);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.events.close();
    await this.boss.stop({ graceful: true, timeout: 10_000 }).catch(() => {});
    await this.pool.end().catch(() => {});
    this.replicas.close();
  }

  /** Inserts the job and queues its run, in one transaction: a job is in the table only if it is in the queue. */
  private async queueRun(owner: string, program: string, kind: JobKind, args: Value, idempotencyKey: string | undefined): Promise<{ id: string; created: boolean }> {
    const disk = await this.ownedDisk(owner, program);
    const request = requestDigest(program, args);
    if (kind === "prove") {
      // A soft cap (two requests at once may both pass it): it bounds what one owner can pile up.
      const { rows } = await this.pool.query<{ n: string }>("SELECT count(*) AS n FROM zkguest.jobs WHERE owner = $1 AND status IN ('queued', 'running')", [owner]);
      if (Number(rows[0]!.n) >= this.maxOpenJobs) throw tooManyJobs(this.maxOpenJobs);
    }
    return transaction(this.pool, async (client) => {
      const id = randomUUID();
      const { rows } = await client.query<{ id: string }>(
        `INSERT INTO zkguest.jobs (id, owner, program, disk, kind, args, idempotency_key, request, status)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'queued') ON CONFLICT (owner, idempotency_key) DO NOTHING RETURNING id`,
        [id, owner, program, disk.id, kind, JSON.stringify(args), idempotencyKey ?? null, request],
      );
      if (rows[0] === undefined) {
        const known = await client.query<{ id: string; request: string }>("SELECT id, request FROM zkguest.jobs WHERE owner = $1 AND idempotency_key = $2", [owner, idempotencyKey]);
        const job = known.rows[0]!;
        if (job.request !== request) throw new ZkguestError("already_exists", `the idempotency key '${idempotencyKey}' was used for another request (job ${job.id})`);
        return { id: job.id, created: false };
      }
      const message: RunMessage = { job: id };
      await this.boss.send(RUNS_QUEUE, message, {
        id,
        ...(kind === "execute" ? { priority: EXECUTE_PRIORITY } : {}),
        db: { executeSql: (text: string, values?: unknown[]) => client.query(text, values) },
      });
      return { id, created: true };
    });
  }

  /** The owner's disk of the program; not_found when the owner has not deployed it. */
  private async ownedDisk(owner: string, program: string): Promise<DiskRow> {
    const { rows } = await this.pool.query<{ id: string; bytes: string; block_bytes: number; generation: string }>(
      "SELECT id, bytes, block_bytes, generation FROM zkguest.disks WHERE owner = $1 AND program = $2",
      [owner, checkProgramId(program)],
    );
    const row = rows[0];
    if (row === undefined) throw new ZkguestError("not_found", `no program ${program} is deployed here`);
    return { id: row.id, bytes: Number(row.bytes), blockBytes: row.block_bytes, generation: Number(row.generation) };
  }

  /** Runs `read` on this process's replica of the disk, brought to the last committed generation (one consistent snapshot). */
  private withSnapshot<T>(disk: DiskRow, read: (image: string) => Promise<T>): Promise<T> {
    return this.replicas.with(disk, async (replica) => {
      await transaction(
        this.pool,
        async (client) => replica.catchUp(client, (await diskRow(client, disk.id, false)).generation),
        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
      );
      return read(replica.image);
    });
  }

  /** Database trouble becomes 503 (try again); the API's own errors pass. */
  private async guard<T>(work: () => Promise<T>): Promise<T> {
    if (this.closed) throw new HttpError(503, "invalid_state", "the server is stopping");
    try {
      return await work();
    } catch (e) {
      if (!(e instanceof HttpError) && !isZkguestError(e) && isDbUnavailable(e)) throw unavailable(e);
      throw e;
    }
  }
}
