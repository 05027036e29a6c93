import { randomBytes } from "node:crypto";
import pg from "pg";

/** The PostgreSQL server the tests use (the project's machines run one; ZKGUEST_TEST_PG overrides it). */
export const PG_SERVER = process.env["ZKGUEST_TEST_PG"] ?? "postgres://postgres@127.0.0.1:5432";

/** A database of its own for one test file, dropped afterwards (whatever connections are still open). */
export async function createTestDatabase(prefix: string): Promise<{ url: string; name: string; drop: () => Promise<void> }> {
  const name = `zkguest_${prefix}_${randomBytes(4).toString("hex")}`;
  await admin(`CREATE DATABASE ${name}`);
  return { url: `${PG_SERVER}/${name}`, name, drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/** Runs one statement on the server's `postgres` database. */
export async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: `${PG_SERVER}/postgres` });
  try {
    await client.connect();
  } catch (e) {
    throw new Error(`PostgreSQL is not reachable at ${PG_SERVER} (start it: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start): ${(e as Error).message}`);
  }
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
