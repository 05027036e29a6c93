import { formatVolume, Volume, type Durability } from "@zkguest/fat16";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { compareOpsPerSecond, median, type BenchRow, type BenchSection } from "./harness.js";

/**
 * The FAT-16 store against mtools (mcopy, mtype) on the same kind of image and against plain
 * Node fs on the host file system, in one run. Images are formatted by the store (256 MiB,
 * 4 KiB clusters, or 64 MiB for the small-file runs) and live in a temporary directory.
 * Each timed run uses a fresh copy of its starting state; the median of SAMPLES runs is kept.
 */
const MiB = 2 ** 20;
const BIG = 128 * MiB;
const SAMPLES = Number(process.env["FAT16_BENCH_SAMPLES"] ?? 3);
const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../packages/cli/bin/zkguest.js");
const MTOOLS_ENV = { ...process.env, MTOOLS_SKIP_CHECK: "1" };

function tool(cmd: string, args: string[], cwd?: string): void {
  const r = spawnSync(cmd, args, { env: MTOOLS_ENV, stdio: ["ignore", "ignore", "pipe"], maxBuffer: 1024 * MiB, ...(cwd ? { cwd } : {}) });
  if (r.error) throw new Error(`${cmd}: ${r.error.message} (install mtools and dosfstools)`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.slice(0, 4).join(" ")}... exited ${r.status}: ${r.stderr.toString()}`);
}

/** Seconds `f` takes, median over SAMPLES runs, each after `setup`. */
function seconds(setup: () => void, f: () => void, samples = SAMPLES): number {
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    setup();
    const t0 = process.hrtime.bigint();
    f();
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return median(times);
}

function pattern(length: number): Buffer {
  const b = Buffer.allocUnsafe(length);
  let x = 0x9e3779b9;
  for (let i = 0; i < length; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b.writeUInt32LE(x >>> 0, i);
  }
  return b;
}

function row(name: string, value: number, unit: string, baselineName: string, baselineValue: number, goal?: { text: string; met: boolean }): BenchRow {
  return { name, value, unit, baselineName, baselineValue, higherIsBetter: true, ...(goal ? { goal: goal.text, goalMet: goal.met } : {}) };
}

export async function run(): Promise<BenchSection[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zkguest-fat16-bench-"));
  try {
    return [sequential(dir), cliAgainstMtools(dir), smallFiles(dir), lookups(dir)];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function sequential(dir: string): BenchSection {
  const img = path.join(dir, "seq.img");
  const local = path.join(dir, "big.bin");
  const hostCopy = path.join(dir, "host-copy.bin");
  const data = pattern(BIG);
  fs.writeFileSync(local, data);
  const fresh = (): void => {
    fs.rmSync(img, { force: true });
    formatVolume(img, { size: 256 * MiB });
  };
  const mibps = (s: number): number => BIG / MiB / s;

  const storeWrite = (durability: Durability): number =>
    mibps(seconds(fresh, () => {
      const v = Volume.open(img, { durability });
      v.writeFile("/BIG.BIN", data);
      v.close();
    }));
  const storeFsync = storeWrite("fsync");
  const storeOrdered = storeWrite("ordered");
  const plainWrite = (fsync: boolean): number =>
    mibps(seconds(() => fs.rmSync(hostCopy, { force: true }), () => {
      const fd = fs.openSync(hostCopy, "w");
      fs.writeSync(fd, data);
      if (fsync) fs.fsyncSync(fd);
      fs.closeSync(fd);
    }));
  const plainFsync = plainWrite(true);
  const plainNoSync = plainWrite(false);
  const mcopyWrite = mibps(seconds(fresh, () => tool("mcopy", ["-i", img, local, "::/BIG.BIN"])));

  // Reads: the image holds the file; everything comes from the page cache for every reader alike.
  fresh();
  const v = Volume.open(img);
  v.writeFile("/BIG.BIN", data);
  v.close();
  const storeRead = mibps(seconds(() => {}, () => {
    const r = Volume.open(img, { readOnly: true });
    if (r.readFile("/BIG.BIN").length !== BIG) throw new Error("short read");
    r.close();
  }));
  const plainRead = mibps(seconds(() => {}, () => {
    if (fs.readFileSync(hostCopy).length !== BIG) throw new Error("short read");
  }));
  const mtypeRead = mibps(seconds(() => {}, () => tool("mtype", ["-i", img, "::/BIG.BIN"])));

  return {
    title: "FAT-16 store: sequential write and read of a 128 MiB file",
    baseline: "plain Node fs on the host file system, and mtools on the same kind of image (256 MiB, 4 KiB clusters)",
    notes:
      "Store writes include open (with its full-volume check) and close. Durability fsync syncs at the crash-safe barriers; " +
      "durability ordered keeps the order but does not fsync, like mcopy. " +
      "Reads come from the page cache for every reader; mtype writes to a pipe that is discarded. The CLI's rows are in the next section.",
    rows: [
      row("store write, durability fsync", storeFsync, "MiB/s", "plain fs write + fsync", plainFsync, { text: ">= 50% of plain fs", met: storeFsync >= 0.5 * plainFsync }),
      row("store write, durability ordered", storeOrdered, "MiB/s", "plain fs write", plainNoSync, { text: ">= 50% of plain fs", met: storeOrdered >= 0.5 * plainNoSync }),
      row("store write, durability ordered", storeOrdered, "MiB/s", "mcopy", mcopyWrite, { text: "faster than mtools", met: storeOrdered > mcopyWrite }),
      row("store read (Volume.readFile)", storeRead, "MiB/s", "plain fs readFileSync", plainRead),
      row("store read (Volume.readFile)", storeRead, "MiB/s", "mtype", mtypeRead),
    ],
  };
}

/** Wall seconds of `a` and `b`, each run `samples` times in turn (a b a b ...), after one warm-up each: the medians. */
function inTurn(a: () => void, b: () => void, samples = 5): { a: number; b: number } {
  a();
  b();
  const ta: number[] = [];
  const tb: number[] = [];
  const time = (f: () => void): number => {
    const t0 = process.hrtime.bigint();
    f();
    return Number(process.hrtime.bigint() - t0) / 1e9;
  };
  for (let i = 0; i < samples; i++) {
    ta.push(time(a));
    tb.push(time(b));
  }
  return { a: median(ta), b: median(tb) };
}

/**
 * `zkguest fs put` and `fs cat` of a 512 MiB file against mcopy and mtype, each a whole process
 * (issue 13's goal: at most mtools' time), on images of the same kind (2 GiB, formatted by the
 * store, each tool on its own), with `node -e 0` and `zkguest --help` for what starting costs.
 */
function cliAgainstMtools(dir: string): BenchSection {
  const size = 512 * MiB;
  const local = path.join(dir, "cli-512.bin");
  fs.writeFileSync(local, pattern(size));
  const images = { cli: path.join(dir, "cli.img"), mtools: path.join(dir, "mtools.img") };
  // 2 GiB: an overwrite is copy-on-write, so the store needs room for the old and the new file.
  for (const img of Object.values(images)) formatVolume(img, { size: 2048 * MiB });
  // Each put replaces the file the previous one left (mcopy -o), as an operator updating a file does.
  const put = inTurn(
    () => tool(process.execPath, [CLI, "fs", "put", images.cli, local, "/BIG.BIN"]),
    () => tool("mcopy", ["-o", "-i", images.mtools, local, "::/BIG.BIN"]),
  );
  // cat writes a new file each time (made before the clock starts), as `> file` would.
  let outputs = 0;
  const toFile = (cmd: string, args: string[]): void => {
    const out = path.join(dir, `cat-out-${outputs++}.bin`);
    const fd = fs.openSync(out, "w");
    try {
      const r = spawnSync(cmd, args, { env: MTOOLS_ENV, stdio: ["ignore", fd, "pipe"] });
      if (r.status !== 0) throw new Error(`${cmd} ${args.slice(0, 3).join(" ")}... exited ${r.status}: ${r.stderr.toString()}`);
    } finally {
      fs.closeSync(fd);
    }
    if (fs.statSync(out).size !== size) throw new Error(`${cmd} wrote ${fs.statSync(out).size} bytes, not ${size}`);
    fs.rmSync(out);
  };
  const cat = inTurn(
    () => toFile(process.execPath, [CLI, "fs", "cat", images.cli, "/BIG.BIN"]),
    () => toFile("mtype", ["-i", images.mtools, "::/BIG.BIN"]),
  );
  const start = inTurn(
    () => tool(process.execPath, [CLI, "--help"]),
    () => tool(process.execPath, ["-e", "0"]),
    9,
  );
  fs.rmSync(local);
  const ms = (s: number): number => s * 1000;
  const timeRow = (name: string, value: number, baselineName: string, baselineValue: number, goal?: { text: string; met: boolean }): BenchRow => ({
    name,
    value: ms(value),
    unit: "ms",
    baselineName,
    baselineValue: ms(baselineValue),
    higherIsBetter: false,
    ...(goal ? { goal: goal.text, goalMet: goal.met } : {}),
  });
  return {
    title: "`zkguest fs` against mtools: 512 MiB, process start included",
    baseline: "mcopy and mtype on the same kind of image (2 GiB, formatted by the store), and `node -e 0`, in the same run",
    notes:
      "Each figure is a whole process's wall time: the median of 5 runs, the two commands in turn after a warm-up each. " +
      "put replaces the file the previous run stored (mcopy -o); both stream (zkguest put reads 128 KiB at a time, cat 1 MiB). cat writes to a new file on the same file system. " +
      "`zkguest --help` against `node -e 0` is what starting the CLI costs beyond starting Node (median of 9).",
    rows: [
      timeRow("`zkguest fs put` of 512 MiB", put.a, "mcopy -o", put.b, { text: "<= 1.0x mcopy", met: put.a <= put.b }),
      timeRow("`zkguest fs cat` of 512 MiB to a file", cat.a, "mtype to a file", cat.b, { text: "<= 1.0x mtype", met: cat.a <= cat.b }),
      timeRow("`zkguest --help`", start.a, "node -e 0", start.b),
    ],
  };
}

function smallFiles(dir: string): BenchSection {
  const img = path.join(dir, "small.img");
  const srcDir = path.join(dir, "src");
  const hostDir = path.join(dir, "host");
  const payload = pattern(100);
  const name = (i: number): string => `F${String(i).padStart(5, "0")}.TXT`;
  const rows: BenchRow[] = [];
  const fresh = (): void => {
    fs.rmSync(img, { force: true });
    formatVolume(img, { size: 64 * MiB });
  };
  const createStore = (n: number, durability: Durability): void => {
    const v = Volume.open(img, { durability });
    v.mkdir("/DIR");
    for (let i = 0; i < n; i++) v.writeFile(`/DIR/${name(i)}`, payload);
    v.close();
  };

  for (const n of [1_000, 10_000]) {
    fs.rmSync(srcDir, { recursive: true, force: true });
    fs.mkdirSync(srcDir);
    for (let i = 0; i < n; i++) fs.writeFileSync(path.join(srcDir, name(i)), payload);
    const names = Array.from({ length: n }, (_, i) => name(i));
    const store = n / seconds(fresh, () => createStore(n, "batch"));
    // One mcopy for all the files, so mtools pays one process start, not n.
    const mtools = n / seconds(fresh, () => {
      tool("mmd", ["-i", img, "::/DIR"]);
      tool("mcopy", ["-i", img, ...names, "::/DIR/"], srcDir);
    }, n > 1_000 ? 1 : SAMPLES);
    const plain = n / seconds(() => fs.rmSync(hostDir, { recursive: true, force: true }), () => {
      fs.mkdirSync(hostDir);
      for (const f of names) fs.writeFileSync(path.join(hostDir, f), payload);
    });
    rows.push(row(`create ${n.toLocaleString("en-US")} files of 100 B in one directory (batch)`, store, "files/s", "one mcopy of all the files", mtools));
    rows.push(row(`create ${n.toLocaleString("en-US")} files of 100 B in one directory (batch)`, store, "files/s", "plain fs writeFileSync", plain));
  }

  // The marginal rate: 1,000 more creates once the directory already holds 9,000 entries.
  let marginal = 0;
  {
    const times: number[] = [];
    for (let s = 0; s < SAMPLES; s++) {
      fresh();
      const v = Volume.open(img, { durability: "batch" });
      for (let i = 0; i < 9_000; i++) v.writeFile(`/DIR/${name(i)}`, payload);
      v.flush();
      const t0 = process.hrtime.bigint();
      for (let i = 9_000; i < 10_000; i++) v.writeFile(`/DIR/${name(i)}`, payload);
      v.flush();
      times.push(Number(process.hrtime.bigint() - t0) / 1e9);
      v.close();
    }
    marginal = 1_000 / median(times);
  }
  const fsyncRate = 1_000 / seconds(fresh, () => createStore(1_000, "fsync"), 1);
  rows.push(
    row("creates 9,001..10,000 in one directory (batch, incl. commit)", marginal, "files/s", "FatFs (C) at ~16,000 entries, as reported", 1_400, {
      text: ">= 20,000 files/s",
      met: marginal >= 20_000,
    }),
  );
  rows.push(row("create 1,000 files, durability fsync (2 fsyncs each)", fsyncRate, "files/s", "same, batch durability", rows[0]!.value));
  return {
    title: "FAT-16 store: creating small files in one directory",
    baseline: "mtools (one mcopy invocation with every file) on the same kind of image (64 MiB), and plain Node fs on the host",
    notes:
      "Batch durability commits (FAT, fsync, directory, fsync) every 1,024 changes and at close; neither mcopy nor the plain fs loop fsyncs. " +
      "Creates use the per-directory name index, so the rate does not fall as the directory fills.",
    rows,
  };
}

function lookups(dir: string): BenchSection {
  const img = path.join(dir, "lookup.img");
  const hostDir = path.join(dir, "host-lookup");
  fs.rmSync(img, { force: true });
  formatVolume(img, { size: 64 * MiB });
  const n = 10_000;
  const name = (i: number): string => `F${String(i).padStart(5, "0")}.TXT`;
  const v = Volume.open(img, { durability: "batch" });
  for (let i = 0; i < n; i++) v.writeFile(`/DIR/${name(i)}`, `file ${i}`);
  v.close();
  fs.rmSync(hostDir, { recursive: true, force: true });
  fs.mkdirSync(hostDir);
  for (let i = 0; i < n; i++) fs.writeFileSync(path.join(hostDir, name(i)), `file ${i}`);

  const ro = Volume.open(img, { readOnly: true });
  let k = 0;
  let sink = 0;
  const { subject, baseline } = compareOpsPerSecond(
    () => {
      sink += ro.readFile(`/DIR/${name((k = (k * 7919 + 1) % n))}`).length;
    },
    () => {
      sink += fs.readFileSync(path.join(hostDir, name((k = (k * 7919 + 1) % n)))).length;
    },
  );
  const mtypeOne = 1 / seconds(() => {}, () => tool("mtype", ["-i", img, `::/DIR/${name(n - 1)}`]), 5);
  const cliOne = 1 / seconds(() => {}, () => tool(process.execPath, [CLI, "fs", "cat", img, `/DIR/${name(n - 1)}`]), 5);
  ro.close();
  if (sink < 0) throw new Error("unreachable");
  return {
    title: "FAT-16 store: opening a file by name in a 10,000-entry directory",
    baseline: "plain fs readFileSync in a 10,000-file host directory; mtype (one process per lookup)",
    notes: "The store looks names up in the directory's index (a Map from the 11-byte name to its slot). mtype and the CLI rows include a process start each.",
    rows: [
      row("open + read by name (Volume.readFile)", subject, "ops/s", "plain fs readFileSync", baseline),
      row("`zkguest fs cat` of the last entry (process start included)", cliOne, "ops/s", "mtype of the last entry", mtypeOne),
    ],
  };
}
