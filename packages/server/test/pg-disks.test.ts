import { expect } from "chai";
import { Volume } from "@zkguest/fat16";
import { Host } from "@zkguest/host-sdk";
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { PgBackend, PgPhaseDisk, PgRegistry, Replicas } from "../src/index.js";
import { diskRow } from "../src/pg/disk-blocks.js";
import { fsckClean } from "./api-client.js";
import { helloGuest, journalGuest } from "./guests.js";
import { createTestDatabase } from "./pg-database.js";

// Disks as blocks in PostgreSQL (PgPhaseDisk): what a phase moves, what a replica rebuilds,
// and what a retried run's phase does to a disk.

const MiB = 2 ** 20;

describe("disks in PostgreSQL, as blocks", function () {
  this.timeout(60_000);
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let pool: pg.Pool;
  let tmp: string;
  let host: Host;
  let hello: string;
  let journal: string;

  /** A new disk of the program (a new owner each time), and a replica set of its own. */
  async function newDisk(program: Uint8Array, bytes = 16 * MiB) {
    const backend = await PgBackend.open({ database: db.url, diskBytes: bytes, replicaDir: path.join(tmp, `api-${randomUUID()}`) });
    const owner = `owner-${randomUUID().slice(0, 8)}`;
    try {
      await backend.deploy(owner, program);
    } finally {
      await backend.close();
    }
    const { rows } = await pool.query<{ id: string }>("SELECT id FROM zkguest.disks WHERE owner = $1", [owner]);
    return diskRow(pool, rows[0]!.id, false);
  }

  const replicas = () => new Replicas(path.join(tmp, `replicas-${randomUUID()}`));

  /** Bytes of block data the disk's generation `g` wrote. */
  async function bytesAt(disk: string, g: number): Promise<number> {
    const { rows } = await pool.query<{ n: string | null }>("SELECT sum(length(data)) AS n FROM zkguest.blocks WHERE disk = $1 AND generation = $2", [disk, g]);
    return Number(rows[0]!.n ?? 0);
  }

  /** The disk as another process sees it: a fresh replica, brought up to date from the database. */
  async function freshImage(disk: Awaited<ReturnType<typeof newDisk>>): Promise<Buffer> {
    const set = replicas();
    const client = await pool.connect();
    try {
      return await set.with(disk, async (r) => {
        await r.catchUp(client, (await diskRow(client, disk.id, false)).generation);
        return fs.readFileSync(r.image);
      });
    } finally {
      client.release();
      set.close();
    }
  }

  const read = (image: Buffer | string, file: string) => {
    const at = typeof image === "string" ? image : path.join(tmp, `read-${randomUUID()}.img`);
    if (typeof image !== "string") fs.writeFileSync(at, image);
    const v = Volume.open(at, { readOnly: true });
    try {
      return new TextDecoder().decode(v.readFile(file));
    } finally {
      v.close();
    }
  };

  before(async () => {
    db = await createTestDatabase("disks");
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "zkguest-pg-disks-"));
    // PgBackend.open creates the schema.
    await (await PgBackend.open({ database: db.url, replicaDir: path.join(tmp, "first") })).close();
    pool = new pg.Pool({ connectionString: db.url });
    host = await Host.create({ registry: new PgRegistry(pool), poolSize: 1 });
    hello = await host.deploy(await helloGuest());
    journal = await host.deploy(await journalGuest());
  });

  after(async () => {
    await host?.close();
    await pool?.end();
    await db?.drop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("a new disk is stored as its formatted blocks only (a few KiB of a 16 MiB image)", async () => {
    const disk = await newDisk(await helloGuest());
    expect(disk.generation).to.equal(1);
    const stored = await bytesAt(disk.id, 1);
    expect(stored).to.be.greaterThan(0).and.below(64 * 1024);
  });

  for (const size of [16 * MiB, 256 * MiB]) {
    it(`storing a 148-byte proof on a ${size / MiB} MiB disk writes kilobytes; every other process reads the same image, byte for byte`, async () => {
      const disk = await newDisk(await helloGuest(), size);
      const set = replicas();
      try {
        const report = await host.prove(hello, { numbers: [1, 2] }, { disk: new PgPhaseDisk(pool, set, disk, randomUUID()) });
        expect(report.status, report.error?.message).to.equal("proved");
        const now = await diskRow(pool, disk.id, false);
        // The witness step wrote nothing; the entrypoint, the proof.
        expect(now.generation).to.equal(2);
        const moved = await bytesAt(disk.id, 2);
        expect(moved, `${moved} bytes for a ${report.proof!.length}-byte proof`).to.be.below(32 * 1024);
        const theirs = await freshImage(now);
        const ours = await set.with(now, async (r) => fs.readFileSync(r.image));
        expect(theirs.equals(ours), "the image rebuilt from the blocks is the one the phase wrote").to.equal(true);
        const check = fsckClean(theirs);
        expect(check.ok, check.output).to.equal(true);
      } finally {
        set.close();
      }
    });
  }

  it("a replica behind the database catches up with the blocks written since (two processes taking turns)", async () => {
    const disk = await newDisk(await journalGuest());
    const [a, b] = [replicas(), replicas()];
    try {
      for (let n = 1; n <= 6; n++) {
        const set = n % 2 === 0 ? a : b;
        const report = await host.prove(journal, { n, pad: n * 3000 }, { disk: new PgPhaseDisk(pool, set, await diskRow(pool, disk.id, false), randomUUID()) });
        expect(report.status, report.error?.message).to.equal("proved");
      }
      const image = await freshImage(await diskRow(pool, disk.id, false));
      expect(read(image, "/RUNS.TXT")).to.equal("1\n2\n3\n4\n5\n6\n");
      expect(read(image, "/LAST.TXT")).to.equal("6");
      expect(fsckClean(image).ok).to.equal(true);
    } finally {
      a.close();
      b.close();
    }
  });

  it("a retried run's phases that already took effect are not applied again (fenced by the run id)", async () => {
    const disk = await newDisk(await journalGuest());
    const set = replicas();
    const run = randomUUID();
    try {
      const first = await host.prove(journal, { n: 7 }, { disk: new PgPhaseDisk(pool, set, disk, run) });
      expect(first.status).to.equal("proved");
      const generation = (await diskRow(pool, disk.id, false)).generation;
      // The same run again (a worker that was given up on after its commit, retried elsewhere).
      const again = await host.prove(journal, { n: 7 }, { disk: new PgPhaseDisk(pool, set, await diskRow(pool, disk.id, false), run) });
      expect(again.status).to.equal("proved");
      expect((await diskRow(pool, disk.id, false)).generation).to.equal(generation);
      // Another run is applied, on top of the disk as the database has it.
      await host.prove(journal, { n: 8 }, { disk: new PgPhaseDisk(pool, set, await diskRow(pool, disk.id, false), randomUUID()) });
      const image = await freshImage(await diskRow(pool, disk.id, false));
      expect(read(image, "/RUNS.TXT")).to.equal("7\n8\n");
      const local = await set.with(disk, async (r) => fs.readFileSync(r.image));
      expect(local.equals(image), "the replica dropped the retried writes").to.equal(true);
    } finally {
      set.close();
    }
  });

  it("a phase that dies after writing leaves nothing in the database; the next phase starts from the database's disk", async () => {
    const disk = await newDisk(await journalGuest());
    const set = replicas();
    try {
      await host.prove(journal, { n: 1 }, { disk: new PgPhaseDisk(pool, set, disk, randomUUID()) });
      // The entrypoint writes its file, then its worker "dies" before the commit.
      const dying = new PgPhaseDisk(pool, set, disk, randomUUID());
      let caught: unknown;
      await host
        .prove(journal, { n: 2 }, {
          disk: {
            use: (phase, task) =>
              dying.use(phase, async (image) => {
                const result = await task(image);
                if (phase === "entrypoint") throw new Error("killed before the commit");
                return result;
              }),
          },
        })
        .catch((e: unknown) => (caught = e));
      expect((caught as Error).message).to.equal("killed before the commit");
      expect(read(await freshImage(await diskRow(pool, disk.id, false)), "/RUNS.TXT")).to.equal("1\n");
      // The same process's next phase does not build on what the dead phase left in its replica.
      await host.prove(journal, { n: 3 }, { disk: new PgPhaseDisk(pool, set, await diskRow(pool, disk.id, false), randomUUID()) });
      expect(read(await freshImage(await diskRow(pool, disk.id, false)), "/RUNS.TXT")).to.equal("1\n3\n");
    } finally {
      set.close();
    }
  });
});
