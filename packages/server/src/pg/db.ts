import pg from "pg";
import { HttpError } from "../http/problem.js";

/** The service's tables live in their own schema; pg-boss keeps its own (pgboss). */
const SCHEMA_SQL = `
CREATE SCHEMA IF NOT EXISTS zkguest;

CREATE TABLE IF NOT EXISTS zkguest.programs (
  id text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{64}$'),
  artifact bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- A disk per owner and program; generation counts the phases that changed it.
CREATE TABLE IF NOT EXISTS zkguest.disks (
  id bigserial PRIMARY KEY,
  owner text NOT NULL,
  program text NOT NULL REFERENCES zkguest.programs(id),
  bytes bigint NOT NULL,
  block_bytes integer NOT NULL,
  generation bigint NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (owner, program)
);

-- The blocks a disk's phases have written (never the whole image): the latest content of each,
-- and the generation that wrote it, so that a replica at generation g fetches only what is newer.
CREATE TABLE IF NOT EXISTS zkguest.blocks (
  disk bigint NOT NULL REFERENCES zkguest.disks(id) ON DELETE CASCADE,
  idx integer NOT NULL,
  generation bigint NOT NULL,
  data bytea NOT NULL,
  PRIMARY KEY (disk, idx)
);
CREATE INDEX IF NOT EXISTS blocks_since ON zkguest.blocks (disk, generation);

-- Which run's phase changed which disk: a retried run's phase that already took effect is not applied twice.
CREATE TABLE IF NOT EXISTS zkguest.disk_commits (
  run uuid NOT NULL,
  phase text NOT NULL,
  disk bigint NOT NULL,
  generation bigint NOT NULL,
  committed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (run, phase)
);

CREATE TABLE IF NOT EXISTS zkguest.jobs (
  id uuid PRIMARY KEY,
  owner text NOT NULL,
  program text NOT NULL,
  disk bigint NOT NULL REFERENCES zkguest.disks(id),
  kind text NOT NULL CHECK (kind IN ('prove', 'execute')),
  args text NOT NULL,
  idempotency_key text,
  request text NOT NULL,
  status text NOT NULL CHECK (status IN ('queued', 'running', 'proved', 'executed', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  last_error text,
  report text,
  error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (owner, idempotency_key)
);
CREATE INDEX IF NOT EXISTS jobs_finished ON zkguest.jobs (updated_at) WHERE status IN ('proved', 'executed', 'failed');
CREATE INDEX IF NOT EXISTS jobs_open ON zkguest.jobs (owner) WHERE status IN ('queued', 'running');
`;

/** Any 64-bit number, the same in every process: the lock that serializes schema creation. */
const SCHEMA_LOCK = 0x7a6b6775657374;

/** A connection pool whose idle connections may die (the database restarted) without taking the process with them. */
export function createPool(connectionString: string, max: number, onError: (err: Error) => void): pg.Pool {
  const pool = new pg.Pool({ connectionString, max, connectionTimeoutMillis: 10_000, application_name: "zkguest" });
  pool.on("error", onError);
  return pool;
}

/** Creates the schema if it is not there (once, whatever number of processes start together). */
export async function migrate(pool: pg.Pool): Promise<void> {
  await transaction(pool, async (client) => {
    await client.query("SELECT pg_advisory_xact_lock($1)", [SCHEMA_LOCK]);
    await client.query(SCHEMA_SQL);
  });
}

/**
 * A connection of the pool held for a while (a transaction). The database may cut it while it
 * is held and no query runs: the error then comes as an event, which must not go unheard (it
 * would end the process); the next query on it fails and says why.
 */
export async function hold(pool: pg.Pool): Promise<{ client: pg.PoolClient; release: (broken: boolean) => void }> {
  const client = await pool.connect();
  let cut: Error | undefined;
  const onError = (err: Error) => (cut = err);
  client.on("error", onError);
  return {
    client,
    release: (broken) => {
      client.off("error", onError);
      client.release(broken || cut !== undefined);
    },
  };
}

/** Runs `work` in a transaction on one connection: committed if it resolves, rolled back if it throws. */
export async function transaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>, begin = "BEGIN"): Promise<T> {
  const { client, release } = await hold(pool);
  let broken = false;
  try {
    await client.query(begin);
    const result = await work(client);
    await client.query("COMMIT");
    return result;
  } catch (e) {
    await client.query("ROLLBACK").catch(() => (broken = true));
    throw e;
  } finally {
    // A connection whose rollback failed is not given back to the pool.
    release(broken);
  }
}

/** SQLSTATE classes and system errors that mean the database cannot be reached now (not a bad request). */
const UNAVAILABLE = /^(08|57P|53)/;

export function isDbUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === "string" ? e.code : "";
  if (UNAVAILABLE.test(code) || ["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EHOSTUNREACH", "3D000"].includes(code)) return true;
  const message = typeof e?.message === "string" ? e.message : "";
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connection is closed|not currently accepting connections|the database system is (starting up|shutting down)/i.test(message);
}

/** Database trouble as the API reports it: 503, the cause, nothing of the server's insides. */
export function unavailable(err: unknown): HttpError {
  const message = err instanceof Error ? err.message : String(err);
  return new HttpError(503, "internal", `the database is unavailable (${message.slice(0, 200)}); try again`);
}
