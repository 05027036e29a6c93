import type { Stat } from "@zkguest/fat16";
import type { ErrorCode, Value } from "@zkguest/protocol";
import type { Readable } from "node:stream";
import { HttpError } from "./http/problem.js";
import type { Json } from "./json.js";

/** A prove job's state: waiting for a worker, on one, or over (`proved`, or `failed` with an error). */
export const JOB_STATUSES = ["queued", "running", "proved", "failed"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const isFinished = (status: JobStatus): boolean => status === "proved" || status === "failed";

/** Jobs an owner may have queued or running at once (more are 429 limit_exceeded: a client cannot fill the server's disk with jobs). */
export const DEFAULT_MAX_OPEN_JOBS = 10_000;

export function tooManyJobs(max: number): HttpError {
  return new HttpError(429, "limit_exceeded", `this owner has ${max} jobs queued or running, the most this server takes; wait for some to finish`);
}

/** What `GET /v1/jobs/{job}` answers. */
export interface JobView {
  readonly job: string;
  readonly program: string;
  readonly status: JobStatus;
  /** The run's report (bytes as hex), once the job is over and the run happened. */
  readonly report?: Json;
  /** Why the job failed: the run's first failure, or why it could not run (after its retries). */
  readonly error?: { readonly code: ErrorCode; readonly message: string };
}

/** What is at a path of a program's disk. */
export type DiskEntry = { readonly type: "file"; readonly data: Uint8Array } | { readonly type: "dir"; readonly entries: readonly Stat[] };

/**
 * What the HTTP API runs on: the embedded backend (one process, a data directory) or the
 * PostgreSQL one (durable jobs taken by workers anywhere). Every method acts for an owner and
 * sees only that owner's programs and jobs: another owner's are `not_found`, as unknown ones.
 * Failures are ZkguestErrors (or HttpErrors) with the protocol's codes.
 */
export interface Backend {
  /** Stores the artifact and gives the owner a program (with a disk of its own); `created` false when the owner had it already. */
  deploy(owner: string, artifact: Uint8Array): Promise<{ readonly id: string; readonly created: boolean }>;
  /**
   * Queues a prove job. With an idempotency key the same request gives the same job
   * (`created` false); the key used for another request is `already_exists`.
   */
  prove(owner: string, program: string, args: Value, idempotencyKey?: string): Promise<{ readonly job: string; readonly created: boolean }>;
  /** The dry run (the witness step alone), waited for; its report. */
  execute(owner: string, program: string, args: Value): Promise<Json>;
  /** A job's state, or undefined if the owner has no such job. */
  job(owner: string, job: string): Promise<JobView | undefined>;
  /** Like job(), but waits up to `timeoutMs` (or until `signal`) for the job to be over. */
  waitForJob(owner: string, job: string, timeoutMs: number, signal: AbortSignal): Promise<JobView | undefined>;
  /** A file's bytes (at most `maxBytes`) or a directory's entries, from the disk as its last phase left it. */
  readPath(owner: string, program: string, path: string, maxBytes: number): Promise<DiskEntry>;
  /** The whole disk image as its last phase left it (a copy: later phases do not change what is read). */
  image(owner: string, program: string): Promise<{ readonly bytes: number; readonly stream: Readable }>;
  /** Stops taking work; waits for what is running (up to the backend's grace), then releases everything. */
  close(): Promise<void>;
}
