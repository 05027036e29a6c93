import type { HostOptions } from "@zkguest/host-sdk";
import type { Backend } from "./backend.js";
import { EmbeddedBackend } from "./embedded/embedded-backend.js";
import { buildApi, type ApiOptions } from "./http/app.js";
import { Tokens } from "./http/auth.js";
import { PgBackend } from "./pg/pg-backend.js";
import { PgWorker, type WorkerOptions } from "./pg/pg-worker.js";
import type { QueueOptions } from "./pg/queue.js";

export interface ServeOptions {
  /** TCP port (default 8080; 0 picks a free one). */
  readonly port?: number;
  /** Address to listen on (default 127.0.0.1). */
  readonly listenHost?: string;
  /** The embedded backend's data directory (without `database`). */
  readonly dataDir?: string;
  /** postgres://... : jobs, programs and disks in PostgreSQL (instead of `dataDir`). */
  readonly database?: string;
  /** With `database`: the queue's retries and heartbeats. */
  readonly queue?: QueueOptions;
  /** Bearer tokens, owner name -> token (default: none, no authentication). */
  readonly tokens?: Readonly<Record<string, string>>;
  /** Sandbox workers in this process (default: the number of CPUs); with `database`, 0 makes an API-only process. */
  readonly workers?: number;
  /** Size of each program's disk (default 16 MiB). */
  readonly diskBytes?: number;
  /** Jobs an owner may have queued or running (default 10,000); more are 429. */
  readonly maxOpenJobs?: number;
  /** The host's options (prover, devMode, limits, ...). */
  readonly host?: Omit<HostOptions, "registry" | "dataDir" | "diskBytes" | "poolSize">;
  /** Told of trouble no request hears of (connections lost, the queue's errors, a job's state that could not be written); default: stderr. */
  readonly onError?: (err: Error) => void;
  /** Body and response limits, and where internal errors are reported. */
  readonly api?: Omit<ApiOptions, "tokens">;
}

export interface RunningServer {
  /** `http://HOST:PORT`. */
  readonly url: string;
  /** Stops taking requests, lets running jobs finish (within the backend's grace), and releases everything. */
  close(): Promise<void>;
}

/**
 * Starts the service: the HTTP API on the embedded backend (`dataDir`), or on PostgreSQL
 * (`database`) with, unless `workers` is 0, a worker in this process.
 */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const tokens = new Tokens(options.tokens ?? {});
  const storage = {
    ...(options.diskBytes === undefined ? {} : { diskBytes: options.diskBytes }),
    ...(options.maxOpenJobs === undefined ? {} : { maxOpenJobs: options.maxOpenJobs }),
  };
  if (options.database === undefined) {
    if (options.dataDir === undefined) throw new RangeError("serve: a data directory (dataDir) or a database is needed");
    if (options.workers === 0) throw new RangeError("serve: workers 0 (an API-only process) needs a database: something else must run the jobs");
    const backend = await EmbeddedBackend.open({
      dataDir: options.dataDir,
      ...storage,
      ...(options.onError === undefined ? {} : { onError: options.onError }),
      host: { ...options.host, ...(options.workers === undefined ? {} : { poolSize: options.workers }) },
    });
    return listen(backend, tokens, options, async () => {});
  }
  const queue = { ...(options.queue === undefined ? {} : { queue: options.queue }), ...(options.onError === undefined ? {} : { onError: options.onError }) };
  const backend = await PgBackend.open({ database: options.database, ...storage, ...queue });
  let worker: PgWorker | undefined;
  try {
    if (options.workers !== 0) {
      worker = await PgWorker.start({ database: options.database, ...queue, ...(options.host === undefined ? {} : { host: options.host }), ...(options.workers === undefined ? {} : { workers: options.workers }) });
    }
  } catch (e) {
    await backend.close();
    throw e;
  }
  return listen(backend, tokens, options, async () => worker?.close());
}

/** Starts a worker that takes runs from the database (`zkguest worker`). */
export function startWorker(options: WorkerOptions): Promise<PgWorker> {
  return PgWorker.start(options);
}

async function listen(backend: Backend, tokens: Tokens, options: ServeOptions, closeWorker: () => Promise<void>): Promise<RunningServer> {
  let app;
  try {
    app = await buildApi(backend, { ...options.api, tokens });
    await app.listen({ port: options.port ?? 8080, host: options.listenHost ?? "127.0.0.1" });
  } catch (e) {
    await closeWorker();
    await backend.close();
    throw e;
  }
  const address = app.server.address();
  const port = typeof address === "object" && address !== null ? address.port : options.port;
  const host = options.listenHost ?? "127.0.0.1";
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  let closing: Promise<void> | undefined;
  return {
    url,
    close: () =>
      (closing ??= (async () => {
        await app.close();
        await closeWorker();
        await backend.close();
      })()),
  };
}
