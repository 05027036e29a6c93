import { expect } from "chai";
import { createArtifact, readArtifact } from "@zkguest/host-sdk";
import { ServiceClient } from "@zkguest/server/client";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import pg from "pg";
import { exited, startZkguest, tempDir, writeFiles, zkguest, type Started } from "./cli-process.js";

// zkguest serve scaled out: one API process and two worker processes on PostgreSQL, 200 prove
// jobs over 20 programs, workers killed with SIGKILL three times mid-run and replaced. Every
// job must end proved exactly once (or failed with a typed error after its retries), every
// program's disk must pass fsck.fat and hold what its runs wrote, each run's entry once.

const PG = process.env["ZKGUEST_TEST_PG"] ?? "postgres://postgres@127.0.0.1:5432";
const PROGRAMS = 20;
const JOBS_PER_PROGRAM = 10;
const TOTAL = PROGRAMS * JOBS_PER_PROGRAM;

/** Each entrypoint appends its run's number to /RUNS.TXT and stores it in /LAST.TXT. */
const JOURNAL = `import { defineController, encodeUtf8, fs } from "@zkguest/guest-sdk";
export default defineController<{ n: number }>({
  getWitnesses(args) { return [{ type: "data", data: encodeUtf8(String(args.n)) }]; },
  entrypoint(result) {
    if (!result.success) throw new Error("proving failed: " + result.error?.message);
    fs.append("/runs.txt", result.args.n + "\\n");
    fs.store("/last.txt", String(result.args.n));
  },
});
`;

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: `${PG}/postgres` });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("zkguest serve scaled out: an API process, workers killed with SIGKILL and replaced", function () {
  this.timeout(240_000);
  const database = `zkguest_scale_${randomBytes(4).toString("hex")}`;
  const url = `${PG}/${database}`;
  const processes: Started[] = [];
  let dir: string;
  let api: Started;
  let client: ServiceClient;

  const worker = async () => {
    const w = await startZkguest(["worker", "--database", url, "--workers", "1", "--heartbeat-seconds", "10"]);
    processes.push(w);
    return w;
  };

  before(async () => {
    dir = tempDir("scale");
    await admin(`CREATE DATABASE ${database}`);
    api = await startZkguest(["serve", "--port", "0", "--database", url, "--workers", "0", "--disk-mb", "4", "--heartbeat-seconds", "10"]);
    processes.push(api);
    client = new ServiceClient(api.url!);
  });

  after(async () => {
    for (const p of processes) p.child.kill("SIGKILL");
    await Promise.all(processes.map((p) => exited(p.child)));
    await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it(`${TOTAL} prove jobs over ${PROGRAMS} programs: each proved exactly once, every disk clean and complete`, async () => {
    writeFiles(dir, { "journal.ts": JOURNAL });
    const built = zkguest(["build", "journal.ts", "-o", "journal.zkg"], { cwd: dir });
    expect(built.status, built.stderr).to.equal(0);
    const base = readArtifact(fs.readFileSync(path.join(dir, "journal.zkg")));
    // Twenty programs: the same controller, each with a comment of its own (another code, another id).
    const programs: string[] = [];
    for (let p = 0; p < PROGRAMS; p++) {
      const code = Buffer.concat([Buffer.from(base.code), Buffer.from(`\n// program ${p}\n`)]);
      const { bytes } = createArtifact({ name: `journal-${p}`, engine: "js", code, protocol: base.manifest.protocol });
      programs.push((await client.deploy(bytes)).id);
    }
    expect(new Set(programs).size).to.equal(PROGRAMS);

    const workers = [await worker(), await worker()];
    // Jobs go in program after program, round-robin, numbered 1..TOTAL.
    const jobs = new Map<string, { program: string; n: number }>();
    for (let n = 1; n <= TOTAL; n++) {
      const program = programs[(n - 1) % PROGRAMS]!;
      jobs.set(await client.prove(program, { n }), { program, n });
    }

    const count = async (where: string) => {
      const db = new pg.Client({ connectionString: url });
      await db.connect();
      try {
        const { rows } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM zkguest.jobs WHERE ${where}`);
        return Number(rows[0]!.n);
      } finally {
        await db.end();
      }
    };
    const finished = () => count("status IN ('proved', 'failed')");
    const until = async (count: number, ms: number) => {
      const deadline = Date.now() + ms;
      while ((await finished()) < count) {
        if (Date.now() > deadline) throw new Error(`fewer than ${count} jobs finished in ${ms} ms (${await finished()}); worker stderr: ${processes.map((p) => p.stderr()).join("\n")}`);
        await sleep(100);
      }
    };
    // Three times: once some work is done, a worker is killed mid-run and a new one started.
    const killOne = async () => {
      const victim = workers.shift()!;
      victim.child.kill("SIGKILL");
      expect(await exited(victim.child)).to.equal("SIGKILL");
      workers.push(await worker());
    };
    for (const mark of [30, 80, 130]) {
      await until(mark, 120_000);
      await killOne();
    }
    // A kill can land between two of the victim's jobs (on a loaded machine, a worker may wait
    // for its turn): a few more, while work remains, until one has interrupted a job.
    for (let extra = 0; extra < 3 && (await count("attempts > 1")) === 0; extra++) {
      const done = await finished();
      if (done > TOTAL - 30) break;
      await until(done + 10, 120_000);
      await killOne();
    }
    await until(TOTAL, 180_000);

    // Every job over: proved, or failed with a protocol error code after its retries.
    const byProgram = new Map<string, number[]>();
    let proved = 0;
    for (const [id, { program, n }] of jobs) {
      const view = await client.job(id);
      if (view.status === "failed") {
        expect(view.error?.code, `job ${n}`).to.be.a("string");
        continue;
      }
      expect(view.status, `job ${n}`).to.equal("proved");
      proved++;
      byProgram.set(program, [...(byProgram.get(program) ?? []), n]);
    }
    expect(proved, "no job should have run out of retries with three kills").to.equal(TOTAL);
    expect(await count("attempts > 1"), "the kills interrupted jobs, which were run again").to.be.greaterThan(0);

    for (const program of programs) {
      // Each proved job's entrypoint took effect exactly once: its number is in the journal once.
      const runs = await client.path(program, "/runs.txt");
      if (runs.type !== "file") throw new Error("/RUNS.TXT is not a file");
      const lines = new TextDecoder().decode(runs.data).trimEnd().split("\n").map(Number);
      expect([...lines].sort((a, b) => a - b), `program ${program}`).to.deep.equal((byProgram.get(program) ?? []).sort((a, b) => a - b));
      // The files hold what the last run wrote.
      const last = await client.path(program, "/last.txt");
      expect(last.type === "file" && new TextDecoder().decode(last.data)).to.equal(String(lines[lines.length - 1]));
      // The image as a client reads it is a clean FAT-16 volume.
      const image = path.join(dir, `${program}.img`);
      fs.writeFileSync(image, await client.disk(program));
      const fsck = spawnSync("fsck.fat", ["-n", image], { encoding: "utf8" });
      expect(fsck.status, `${program}: ${fsck.stdout}`).to.equal(0);
    }
  });
});
