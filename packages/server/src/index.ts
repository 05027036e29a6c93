/**
 * @zkguest/server: `zkguest serve`, the coprocessor service. The HTTP API (deploy, prove jobs,
 * execute, a program's files, the OpenAPI document) on an embedded backend (one process, a data
 * directory) or on PostgreSQL (durable jobs through pg-boss, disks stored as blocks, workers on
 * any machine).
 */
export { startServer, startWorker, type ServeOptions, type RunningServer } from "./server.js";
export { PgBackend, type PgOptions } from "./pg/pg-backend.js";
export { PgWorker, type WorkerOptions } from "./pg/pg-worker.js";
export { PgRegistry } from "./pg/pg-registry.js";
export { PgPhaseDisk, Replicas, BLOCK_BYTES } from "./pg/disk-blocks.js";
export type { QueueOptions } from "./pg/queue.js";
export { buildApi, API_DEFAULTS, type ApiOptions } from "./http/app.js";
export { Tokens, ANONYMOUS } from "./http/auth.js";
export { HttpError, type Problem } from "./http/problem.js";
export { EmbeddedBackend, type EmbeddedOptions } from "./embedded/embedded-backend.js";
export { JOB_STATUSES, type Backend, type JobStatus, type JobView, type DiskEntry } from "./backend.js";
export { reportJson, toJson, type Json } from "./json.js";
