import { DirectoryRegistry, DiskQueue, ensureDiskImage, Host, DEFAULT_DISK_BYTES, type HostOptions, type PhaseDisk, type RunReport } from "@zkguest/host-sdk";
import { ZkguestError, type Value } from "@zkguest/protocol";
import { createHash, randomUUID } from "node:crypto";
import fs from "node:fs";
import { availableParallelism } from "node:os";
import path from "node:path";
import { DEFAULT_MAX_OPEN_JOBS, isFinished, tooManyJobs, type Backend, type DiskEntry, type JobStatus, type JobView } from "../backend.js";
import { requestDigest } from "../canonical-json.js";
import { imageCopy, readDiskEntry } from "../disk-read.js";
import { JobSignals } from "../job-signals.js";
import { reportJson, type Json } from "../json.js";
import { HttpError } from "../http/problem.js";
import { checkProgramId } from "../ids.js";
import { JobFiles, type JobFile } from "./job-files.js";

export interface EmbeddedOptions {
  /** Where artifacts (`programs/`), owners' disks (`owners/`) and jobs (`jobs/`) live. */
  readonly dataDir: string;
  /** The host's options (prover, devMode, poolSize, limits, ...); its registry is the data directory's. */
  readonly host?: Omit<HostOptions, "registry" | "dataDir" | "diskBytes">;
  /** Size of each program's disk (default 16 MiB). */
  readonly diskBytes?: number;
  /** Prove jobs run at once (default: twice the pool's workers, so that proving overlaps the guests' phases). */
  readonly concurrency?: number;
  /** How long a finished job is kept (default 7 days). */
  readonly jobRetentionMs?: number;
  /** How long close() waits for running jobs (default 30 s). */
  readonly closeGraceMs?: number;
  /** Jobs an owner may have queued or running (default DEFAULT_MAX_OPEN_JOBS). */
  readonly maxOpenJobs?: number;
  /** Told of trouble no request hears of (a job's state that could not be written); default: stderr. */
  readonly onError?: (err: Error) => void;
}

const DAY_MS = 24 * 3600 * 1000;
const PRUNE_EVERY_MS = 3600 * 1000;

/** Where an owner's disks live: a directory named by a digest of the owner (any name is a safe path). */
function ownerDir(owner: string): string {
  return createHash("sha256").update(`zkguest-owner:${owner}`).digest("hex").slice(0, 32);
}

/**
 * Everything in one process, on a data directory: the host's DirectoryRegistry for artifacts,
 * a disk per owner and program, and jobs kept as files (a restart resumes the queued ones; a
 * job the stop interrupted is `failed`, never run twice). Phases of one disk run one at a time,
 * in order; a run holds no disk while it proves.
 */
export class EmbeddedBackend implements Backend {
  private readonly disks = new DiskQueue();
  private readonly signals = new JobSignals();
  /** Every job: owner and status (the rest is on file). */
  private readonly index = new Map<string, { owner: string; status: JobStatus }>();
  /** Jobs queued or running, per owner. */
  private readonly open = new Map<string, number>();
  /** owner \0 idempotency key -> the job and the request it was given for. */
  private readonly keys = new Map<string, { job: string; request: string }>();
  private readonly pending: string[] = [];
  private readonly running = new Set<Promise<void>>();
  private closing = false;
  private pruner: NodeJS.Timeout | undefined;

  private constructor(
    private readonly host: Host,
    private readonly jobs: JobFiles,
    private readonly dataDir: string,
    private readonly diskBytes: number,
    private readonly concurrency: number,
    private readonly retentionMs: number,
    private readonly closeGraceMs: number,
    private readonly maxOpenJobs: number,
    private readonly onError: (err: Error) => void,
  ) {}

  static async open(options: EmbeddedOptions): Promise<EmbeddedBackend> {
    const diskBytes = options.diskBytes ?? DEFAULT_DISK_BYTES;
    const registry = new DirectoryRegistry(options.dataDir, { diskBytes });
    const host = await Host.create({ ...options.host, registry, diskBytes });
    const poolSize = options.host?.poolSize ?? availableParallelism();
    const tmp = path.join(options.dataDir, "tmp");
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp, { recursive: true });
    const backend = new EmbeddedBackend(
      host,
      new JobFiles(path.join(options.dataDir, "jobs")),
      options.dataDir,
      diskBytes,
      options.concurrency ?? 2 * poolSize,
      options.jobRetentionMs ?? 7 * DAY_MS,
      options.closeGraceMs ?? 30_000,
      options.maxOpenJobs ?? DEFAULT_MAX_OPEN_JOBS,
      options.onError ?? ((err) => console.error(`zkguest serve: ${err.message}`)),
    );
    await backend.recover();
    backend.pruner = setInterval(() => backend.prune().catch(backend.onError), PRUNE_EVERY_MS).unref();
    return backend;
  }

  async deploy(owner: string, artifact: Uint8Array): Promise<{ id: string; created: boolean }> {
    const id = await this.host.deploy(artifact);
    const image = this.imageOf(owner, id);
    const created = !fs.existsSync(image);
    if (created) {
      fs.mkdirSync(path.dirname(image), { recursive: true });
      ensureDiskImage(image, this.diskBytes);
    }
    return { id, created };
  }

  async prove(owner: string, program: string, args: Value, idempotencyKey?: string): Promise<{ job: string; created: boolean }> {
    this.checkOpen();
    this.ownedImage(owner, program);
    const request = requestDigest(program, args);
    const id = randomUUID();
    const key = idempotencyKey === undefined ? undefined : `${owner}\0${idempotencyKey}`;
    // Checked and taken before any await: two requests with one key cannot both make a job.
    const known = key === undefined ? undefined : this.keys.get(key);
    if (known !== undefined && known.request === request) return { job: known.job, created: false };
    if (known !== undefined) throw new ZkguestError("already_exists", `the idempotency key '${idempotencyKey}' was used for another request (job ${known.job})`);
    if ((this.open.get(owner) ?? 0) >= this.maxOpenJobs) throw tooManyJobs(this.maxOpenJobs);
    const now = new Date().toISOString();
    const job: JobFile = {
      id,
      owner,
      program,
      args: args as Json,
      ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
      request,
      status: "queued",
      createdAt: now,
      updatedAt: now,
    };
    this.track(job);
    try {
      await this.jobs.write(job);
    } catch (e) {
      this.forget(job);
      throw e;
    }
    this.pending.push(job.id);
    this.pump();
    return { job: job.id, created: true };
  }

  async execute(owner: string, program: string, args: Value): Promise<Json> {
    this.checkOpen();
    const image = this.ownedImage(owner, program);
    return reportJson(await this.host.execute(program, args, { disk: this.phaseDisk(image) }));
  }

  async job(owner: string, id: string): Promise<JobView | undefined> {
    if (this.index.get(id)?.owner !== owner) return undefined;
    const job = await this.jobs.read(id);
    return job === undefined ? undefined : view(job);
  }

  async waitForJob(owner: string, id: string, timeoutMs: number, signal: AbortSignal): Promise<JobView | undefined> {
    const entry = this.index.get(id);
    if (entry?.owner !== owner) return undefined;
    const deadline = Date.now() + timeoutMs;
    while (!isFinished(entry.status) && !signal.aborted && Date.now() < deadline) {
      await this.signals.wait(id, deadline - Date.now(), signal);
    }
    return this.job(owner, id);
  }

  async readPath(owner: string, program: string, filePath: string, maxBytes: number): Promise<DiskEntry> {
    const image = this.ownedImage(owner, program);
    return this.disks.run(image, async () => readDiskEntry(image, filePath, maxBytes));
  }

  async image(owner: string, program: string) {
    const image = this.ownedImage(owner, program);
    const copy = path.join(this.dataDir, "tmp", `${randomUUID()}.img`);
    await this.disks.run(image, () => fs.promises.copyFile(image, copy));
    return imageCopy(copy);
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearInterval(this.pruner);
    // Queued jobs stay on file for the next start; running ones get a grace to finish.
    const grace = new Promise((resolve) => setTimeout(resolve, this.closeGraceMs).unref());
    await Promise.race([Promise.all(this.running), grace]);
    await this.host.close();
    await Promise.all(this.running);
    this.signals.notifyAll();
  }

  /** At start: resumes the queued jobs, fails the ones a stop interrupted, forgets old ones. */
  private async recover(): Promise<void> {
    const all = await this.jobs.all();
    all.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    for (const job of all) {
      if (this.expired(job)) {
        await this.jobs.remove(job.id);
        continue;
      }
      if (job.status === "running") {
        // It may have changed its disk half-way; running it again could do so twice.
        const failed = await this.update(job, { status: "failed", error: { code: "internal", message: "the server stopped while the job ran; it was not run again" } });
        this.track(failed);
        continue;
      }
      this.track(job);
      if (job.status === "queued") this.pending.push(job.id);
    }
    this.pump();
  }

  private async prune(): Promise<void> {
    for (const [id, { status }] of this.index) {
      if (!isFinished(status)) continue;
      const job = await this.jobs.read(id);
      if (job === undefined || !this.expired(job)) continue;
      await this.jobs.remove(id);
      this.forget(job);
    }
  }

  private forget(job: JobFile): void {
    const entry = this.index.get(job.id);
    if (entry !== undefined && !isFinished(entry.status)) this.countOpen(job.owner, -1);
    this.index.delete(job.id);
    if (job.idempotencyKey !== undefined) this.keys.delete(`${job.owner}\0${job.idempotencyKey}`);
  }

  private expired(job: JobFile): boolean {
    return isFinished(job.status) && Date.now() - Date.parse(job.updatedAt) > this.retentionMs;
  }

  private countOpen(owner: string, delta: number): void {
    const n = (this.open.get(owner) ?? 0) + delta;
    if (n > 0) this.open.set(owner, n);
    else this.open.delete(owner);
  }

  private track(job: JobFile): void {
    this.index.set(job.id, { owner: job.owner, status: job.status });
    if (!isFinished(job.status)) this.countOpen(job.owner, 1);
    if (job.idempotencyKey !== undefined) this.keys.set(`${job.owner}\0${job.idempotencyKey}`, { job: job.id, request: job.request });
  }

  /** Starts queued jobs while fewer than `concurrency` run. */
  private pump(): void {
    while (!this.closing && this.running.size < this.concurrency && this.pending.length > 0) {
      const id = this.pending.shift()!;
      const run = this.runJob(id)
        .catch((e: unknown) => this.onError(new Error(`job ${id}: its state could not be written: ${e instanceof Error ? e.message : String(e)}`)))
        .finally(() => {
          this.running.delete(run);
          this.pump();
        });
      this.running.add(run);
    }
  }

  private async runJob(id: string): Promise<void> {
    const queued = await this.jobs.read(id);
    if (queued === undefined || queued.status !== "queued") return;
    const running = await this.update(queued, { status: "running" });
    let finished: Partial<JobFile>;
    try {
      const image = this.ownedImage(running.owner, running.program);
      const report: RunReport = await this.host.prove(running.program, running.args as Value, { disk: this.phaseDisk(image) });
      finished = { status: report.status === "proved" ? "proved" : "failed", report: reportJson(report), ...(report.error ? { error: { code: report.error.code, message: report.error.message } } : {}) };
    } catch (e) {
      const error = e instanceof ZkguestError ? { code: e.code, message: e.message } : { code: "internal" as const, message: e instanceof Error ? e.message : String(e) };
      finished = { status: "failed", error };
    }
    await this.update(running, finished);
  }

  private async update(job: JobFile, change: Partial<JobFile>): Promise<JobFile> {
    const next: JobFile = { ...job, ...change, updatedAt: new Date().toISOString() };
    await this.jobs.write(next);
    const entry = this.index.get(job.id);
    if (entry !== undefined) {
      if (!isFinished(entry.status) && isFinished(next.status)) this.countOpen(job.owner, -1);
      entry.status = next.status;
    }
    this.signals.notify(job.id);
    return next;
  }

  /** The disk's phases, one at a time in the order they ask, on the owner's image of the program. */
  private phaseDisk(image: string): PhaseDisk {
    return { use: (_phase, task) => this.disks.run(image, () => task(image)) };
  }

  private imageOf(owner: string, program: string): string {
    return path.join(this.dataDir, "owners", ownerDir(owner), `${checkProgramId(program)}.img`);
  }

  /** The owner's image of the program; not_found when the owner has not deployed it. */
  private ownedImage(owner: string, program: string): string {
    const image = this.imageOf(owner, program);
    if (!fs.existsSync(image)) throw new ZkguestError("not_found", `no program ${program} is deployed here`);
    return image;
  }

  private checkOpen(): void {
    if (this.closing) throw new HttpError(503, "invalid_state", "the server is stopping");
  }
}

function view(job: JobFile): JobView {
  return {
    job: job.id,
    program: job.program,
    status: job.status,
    ...(job.report === undefined ? {} : { report: job.report }),
    ...(job.error === undefined ? {} : { error: job.error }),
  };
}
