import { createArtifact, DevProver, Host, readArtifact, type Prover, type RunReport } from "@zkguest/host-sdk";
import type { Witness } from "@zkguest/protocol";
import { PgBackend, PgPhaseDisk, PgRegistry, Replicas, startServer, type RunningServer } from "@zkguest/server";
import { ServiceClient } from "@zkguest/server/client";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { buildArtifact } from "zkguest";
import { median, type BenchSection } from "./harness.js";

// The service (zkguest serve): prove jobs per second through the HTTP API, embedded and on
// PostgreSQL with two worker processes, against Host.prove in-process in the same run; what a
// file write moves to PostgreSQL against the image size; proving that does not hold the disk.

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const BIN = path.join(ROOT, "packages/cli/bin/zkguest.js");
const PG_SERVER = process.env["ZKGUEST_TEST_PG"] ?? "postgres://postgres@127.0.0.1:5432";
const JOBS = 200;
/** Clients, each submitting a job and waiting for it before the next (a closed loop). */
const CLIENTS = 8;
const MiB = 2 ** 20;

interface LoadResult {
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Runs `one` JOBS times from CLIENTS concurrent loops: jobs per second, and each job's latency. */
async function load(one: (i: number) => Promise<void>): Promise<LoadResult> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      for (let i = next++; i < JOBS; i = next++) {
        const t0 = performance.now();
        await one(i);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { perSecond: JOBS / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

const expectProved = (status: string, what: string) => {
  if (status !== "proved") throw new Error(`${what}: a job ended ${status}`);
};

/** CLIENTS programs: the same controller, each with a comment of its own (another code, another program id). */
function programs(artifact: Uint8Array): Uint8Array[] {
  const { code, manifest } = readArtifact(artifact);
  return Array.from({ length: CLIENTS }, (_, k) => createArtifact({ name: `${manifest.name}-${k}`, engine: manifest.engine, code: Buffer.concat([code, Buffer.from(`\n// ${k}\n`)]), protocol: manifest.protocol }).bytes);
}

/** Prove jobs through the API, job i on program i mod CLIENTS: submit, then wait (long poll) until proved. */
async function throughApi(url: string, artifacts: readonly Uint8Array[]): Promise<LoadResult> {
  const client = new ServiceClient(url);
  const ids: string[] = [];
  for (const a of artifacts) ids.push((await client.deploy(a)).id);
  // Warm up: the workers compile and snapshot the guests.
  for (const id of ids) expectProved((await client.wait(await client.prove(id, { numbers: [0] }), 60_000)).status, "warm-up");
  return load(async (i) => {
    const job = await client.prove(ids[i % ids.length]!, { numbers: [i, i + 1] });
    expectProved((await client.wait(job, 60_000)).status, "api");
  });
}

/** The same proofs with Host.prove in this process (no HTTP, no queue, no database). */
async function inProcess(artifacts: readonly Uint8Array[], poolSize: number): Promise<LoadResult> {
  const host = await Host.create({ poolSize });
  try {
    const ids: string[] = [];
    for (const a of artifacts) ids.push(await host.deploy(a));
    for (const id of ids) expectProved((await host.prove(id, { numbers: [0] })).status, "warm-up");
    return await load(async (i) => expectProved((await host.prove(ids[i % ids.length]!, { numbers: [i, i + 1] })).status, "Host.prove"));
  } finally {
    await host.close();
  }
}

async function pgReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: `${PG_SERVER}/postgres` });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

async function withDatabase<T>(work: (url: string) => Promise<T>): Promise<T> {
  const name = `zkguest_bench_${randomBytes(4).toString("hex")}`;
  const admin = async (sql: string) => {
    const c = new pg.Client({ connectionString: `${PG_SERVER}/postgres` });
    await c.connect();
    await c.query(sql).finally(() => c.end());
  };
  await admin(`CREATE DATABASE ${name}`);
  try {
    return await work(`${PG_SERVER}/${name}`);
  } finally {
    await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

/** `zkguest worker` processes; resolves once each printed 'worker ready'. */
async function workers(url: string, count: number): Promise<ChildProcess[]> {
  return Promise.all(
    Array.from({ length: count }, () => {
      const child = spawn(process.execPath, [BIN, "worker", "--database", url, "--workers", "1"], { stdio: ["ignore", "pipe", "pipe"] });
      return new Promise<ChildProcess>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("a worker did not start in 30 s")), 30_000);
        child.stdout!.on("data", (c: Buffer) => {
          if (c.toString().includes("worker ready")) {
            clearTimeout(timer);
            resolve(child);
          }
        });
        child.once("exit", (code) => reject(new Error(`a worker exited (${code})`)));
      });
    }),
  );
}

async function stop(children: readonly ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once("exit", () => resolve());
          c.kill("SIGTERM");
          setTimeout(() => c.kill("SIGKILL"), 15_000).unref();
        }),
    ),
  );
}

async function jobsSection(artifact: Uint8Array): Promise<BenchSection> {
  const cpus = os.availableParallelism();
  const artifacts = programs(artifact);
  const baseline = await inProcess(artifacts, cpus);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zkguest-bench-serve-"));
  let embedded: LoadResult;
  let server: RunningServer | undefined;
  try {
    server = await startServer({ port: 0, dataDir: dir, workers: cpus });
    embedded = await throughApi(server.url, artifacts);
  } finally {
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  let onPostgres: LoadResult | undefined;
  if (await pgReachable()) {
    onPostgres = await withDatabase(async (url) => {
      const api = await startServer({ port: 0, database: url, workers: 0 });
      let children: ChildProcess[] = [];
      try {
        children = await workers(url, 2);
        return await throughApi(api.url, artifacts);
      } finally {
        await stop(children);
        await api.close();
      }
    });
  }
  const rows = (name: string, r: LoadResult) => [
    { name: `${name}: prove jobs`, value: r.perSecond, unit: "jobs/s", baselineName: "Host.prove in-process", baselineValue: baseline.perSecond, higherIsBetter: true },
    { name: `${name}: job latency p50`, value: r.p50, unit: "ms", baselineName: "Host.prove in-process", baselineValue: baseline.p50, higherIsBetter: false },
    { name: `${name}: job latency p99`, value: r.p99, unit: "ms", baselineName: "Host.prove in-process", baselineValue: baseline.p99, higherIsBetter: false },
  ];
  return {
    title: "Service: prove jobs through the HTTP API (dev prover)",
    baseline: `Host.prove in this process, ${CLIENTS} concurrent callers, a pool of ${cpus} workers, in the same run`,
    notes: [
      `examples/hello-js as ${CLIENTS} programs; ${JOBS} jobs from ${CLIENTS} concurrent clients (client k proves program k), each submitting a job (POST .../prove) and waiting for it (GET /v1/jobs/{job}?wait=30) before the next: latency is submit to proved as the client sees it.`,
      `Embedded: \`zkguest serve\` in this process with ${cpus} sandbox workers (every job's state written to a file, atomically).`,
      onPostgres === undefined
        ? "PostgreSQL was not reachable: its rows are missing."
        : "PostgreSQL: an API-only server (--workers 0) in this process and two `zkguest worker --workers 1` processes; every job is a row and a pg-boss job, every disk phase a transaction that holds the disk's row, catches the worker's replica up and writes back the changed blocks. All of it shares the machine's cores with the database.",
    ].join(" "),
    rows: [...rows("embedded", embedded), ...(onPostgres === undefined ? [] : rows("PostgreSQL, 2 worker processes", onPostgres))],
  };
}

/** Bytes of block data a disk's generation wrote. */
async function bytesAt(pool: pg.Pool, disk: string, generation: number): Promise<number> {
  const { rows } = await pool.query<{ n: string | null }>("SELECT sum(length(data)) AS n FROM zkguest.blocks WHERE disk = $1 AND generation = $2", [disk, generation]);
  return Number(rows[0]!.n ?? 0);
}

async function blocksSection(artifact: Uint8Array): Promise<BenchSection | undefined> {
  if (!(await pgReachable())) return undefined;
  return withDatabase(async (url) => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "zkguest-bench-blocks-"));
    // Opening a backend creates the schema.
    await (await PgBackend.open({ database: url, replicaDir: path.join(tmp, "schema") })).close();
    const pool = new pg.Pool({ connectionString: url });
    const host = await Host.create({ registry: new PgRegistry(pool), poolSize: 1 });
    const rows: BenchSection["rows"][number][] = [];
    try {
      const program = await host.deploy(artifact);
      for (const size of [16 * MiB, 256 * MiB]) {
        const owner = `bench-${size}`;
        const backend = await PgBackend.open({ database: url, diskBytes: size, replicaDir: path.join(tmp, `api-${size}`) });
        await backend.deploy(owner, artifact).finally(() => backend.close());
        const { rows: found } = await pool.query<{ id: string }>("SELECT id FROM zkguest.disks WHERE owner = $1", [owner]);
        const disk = found[0]!.id;
        const replicas = new Replicas(path.join(tmp, `worker-${size}`));
        const moved: number[] = [];
        const phaseMs: number[] = [];
        let proof = 0;
        for (let i = 0; i < 5; i++) {
          const { rows: r } = await pool.query<{ generation: string }>("SELECT generation FROM zkguest.disks WHERE id = $1", [disk]);
          const generation = Number(r[0]!.generation);
          const row = { id: disk, bytes: size, blockBytes: 4096, generation };
          const phaseDisk = new PgPhaseDisk(pool, replicas, row, randomUUID());
          // Timing the disk's part of each phase: lock, catch up, the phase, diff, commit.
          const timed = {
            use: async <T>(phase: "witness" | "entrypoint", task: (image: string) => Promise<T>) => {
              const t0 = performance.now();
              let inTask = 0;
              const result = await phaseDisk.use(phase, async (image) => {
                const t1 = performance.now();
                const out = await task(image);
                inTask = performance.now() - t1;
                return out;
              });
              if (phase === "entrypoint") phaseMs.push(performance.now() - t0 - inTask);
              return result;
            },
          };
          const report: RunReport = await host.prove(program, { numbers: [i] }, { disk: timed });
          expectProved(report.status, "blocks");
          proof = report.proof!.length;
          moved.push(await bytesAt(pool, disk, generation + 1));
        }
        replicas.close();
        rows.push({
          name: `storing a ${proof}-byte proof on a ${size / MiB} MiB disk: bytes written to PostgreSQL`,
          value: median(moved) / 1024,
          unit: "KiB",
          baselineName: "the whole image (what a store of whole images moves)",
          baselineValue: size / 1024,
          higherIsBetter: false,
        });
        rows.push({
          name: `${size / MiB} MiB disk: the disk's share of an entrypoint (lock, catch up, diff, commit)`,
          value: median(phaseMs.slice(1)),
          unit: "ms",
          higherIsBetter: false,
        });
      }
    } finally {
      await host.close();
      await pool.end();
      fs.rmSync(tmp, { recursive: true, force: true });
    }
    return {
      title: "Service: what a file write moves to PostgreSQL",
      baseline: "the image size: a store that keeps each disk as one value reads and rewrites it whole on every write",
      notes:
        "examples/hello-js proved on a disk in PostgreSQL (PgPhaseDisk), 5 times per disk size; median of the block bytes the entrypoint's generation wrote (4 KiB blocks: the two FAT copies, the directory, the data). The disk's share of a phase is the time of PgPhaseDisk.use minus the phase itself (median of the last 4): its diff reads the whole replica and digests its non-zero blocks, so it grows with the disk's size.",
      rows,
    };
  });
}

/** A prover that takes `ms` (a real prover's time, much shortened). */
class SlowProver implements Prover {
  readonly name = "slow-dev";
  private readonly dev = new DevProver({ devMode: true });
  constructor(private readonly ms: number) {}
  async prove(witnesses: readonly Witness[], program: Parameters<Prover["prove"]>[1]) {
    await new Promise((r) => setTimeout(r, this.ms));
    return this.dev.prove(witnesses, program);
  }
  verify(...args: Parameters<Prover["verify"]>) {
    return this.dev.verify(...args);
  }
}

async function orderingSection(artifact: Uint8Array): Promise<BenchSection> {
  const PROOFS = 10;
  const PROVER_MS = 200;
  const prover = new SlowProver(PROVER_MS);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zkguest-bench-order-"));
  const time = async (work: () => Promise<unknown>) => {
    const t0 = performance.now();
    await work();
    return performance.now() - t0;
  };
  let service: number;
  let host: number;
  const server = await startServer({ port: 0, dataDir: dir, workers: 2, host: { prover } });
  try {
    const client = new ServiceClient(server.url);
    const { id } = await client.deploy(artifact);
    await client.wait(await client.prove(id, { numbers: [0] }), 30_000);
    service = await time(async () => {
      const jobs = await Promise.all(Array.from({ length: PROOFS }, (_, i) => client.prove(id, { numbers: [i] })));
      for (const job of jobs) expectProved((await client.wait(job, 60_000)).status, "ordering");
    });
  } finally {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const h = await Host.create({ prover, poolSize: 2 });
  try {
    const id = await h.deploy(artifact);
    await h.prove(id, { numbers: [0] });
    host = await time(() => Promise.all(Array.from({ length: PROOFS }, (_, i) => h.prove(id, { numbers: [i] }))));
  } finally {
    await h.close();
  }
  return {
    title: "Service: proving does not hold the disk",
    baseline: `Host.prove without RunOptions.disk (the run holds its program's disk through proving), in the same run`,
    notes: `${PROOFS} proofs of one program at once with a prover that takes ${PROVER_MS} ms. The service's phases take the disk one at a time and let go of it while proving (RunOptions.disk), so the provers overlap.`,
    rows: [{ name: `${PROOFS} proofs of one program, ${PROVER_MS} ms prover, through the embedded service`, value: service, unit: "ms", baselineName: "Host.prove, run holds the disk", baselineValue: host, higherIsBetter: false }],
  };
}

export async function run(): Promise<BenchSection[]> {
  const { bytes } = await buildArtifact(path.join(ROOT, "examples/hello-js/controller.ts"), "hello");
  const sections = [await jobsSection(bytes), await orderingSection(bytes)];
  const blocks = await blocksSection(bytes);
  return blocks === undefined ? sections : [...sections, blocks];
}
