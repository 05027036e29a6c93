import { expect } from "chai";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ZkguestError } from "@zkguest/protocol";
import { checkVolume, formatVolume } from "../src/index.js";

/**
 * The real FAT tools the store is checked against: dosfstools (mkfs.fat, fsck.fat) and mtools.
 * They are required (Debian packages; .ci/run installs them): a missing tool fails the test.
 */
const MTOOLS_ENV = { ...process.env, MTOOLS_SKIP_CHECK: "1" };

export interface RunResult {
  readonly status: number;
  readonly stdout: Buffer;
  readonly stderr: string;
}

export function run(cmd: string, args: readonly string[], input?: Uint8Array): RunResult {
  const r = spawnSync(cmd, args, { env: MTOOLS_ENV, input, maxBuffer: 512 * 1024 * 1024 });
  if (r.error) throw new Error(`${cmd} could not run (${r.error.message}); install dosfstools and mtools`);
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr.toString() };
}

/** Runs and insists on exit 0. */
export function runOk(cmd: string, args: readonly string[], input?: Uint8Array): Buffer {
  const r = run(cmd, args, input);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}: ${r.stderr}${r.stdout.toString()}`);
  return r.stdout;
}

/** `fsck.fat -n` (never changes the image): exit 0 means clean. */
export function fsck(image: string): { status: number; output: string } {
  const r = run("fsck.fat", ["-n", image]);
  return { status: r.status, output: r.stdout.toString() + r.stderr };
}

/** An mtools image spec: the image, at a byte offset for a partition. */
const spec = (image: string, offset = 0): string => (offset ? `${image}@@${offset}` : image);

export const mtype = (image: string, file: string, offset = 0): Buffer => runOk("mtype", ["-i", spec(image, offset), `::${file}`]);
export const mmd = (image: string, ...dirs: string[]): void => void runOk("mmd", ["-i", image, ...dirs.map((d) => `::${d}`)]);
export const mcopy = (image: string, sources: readonly string[], dest: string): void =>
  void runOk("mcopy", ["-o", "-i", image, ...sources, `::${dest}`]);
export const mdel = (image: string, file: string): void => void runOk("mdel", ["-i", image, `::${file}`]);
/** `mdir -b`: bare names, one per line, of a directory. */
export const mdirBare = (image: string, dir: string, offset = 0): string[] =>
  runOk("mdir", ["-b", "-i", spec(image, offset), `::${dir}`]).toString().split("\n").filter(Boolean);

/** A bare FAT-16 image made by mkfs.fat of `kib` KiB (with -s 1 below mkfs.fat's 16 MiB default minimum). */
export function mkfsFat(image: string, kib: number, extra: readonly string[] = []): void {
  fs.rmSync(image, { force: true });
  runOk("mkfs.fat", ["-C", "-F", "16", ...(kib < 16384 ? ["-s", "1"] : []), ...extra, image, String(kib)]);
}

export interface TempDir {
  readonly dir: string;
  file(name: string): string;
  /** A new image formatted by the store, with a fresh name. */
  image(size: number, label?: string): string;
  cleanup(): void;
}

/** A fresh temporary directory under os.tmpdir(); `cleanup` removes it. */
export function tempDir(): TempDir {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zkguest-fat16-"));
  const file = (name: string): string => path.join(dir, name);
  let images = 0;
  return {
    dir,
    file,
    image: (size, label) => {
      const img = file(`image${images++}.img`);
      formatVolume(img, { size, ...(label ? { label } : {}), now: new Date(2024, 0, 2, 3, 4, 6) });
      return img;
    },
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** The error, which must be a ZkguestError with a code other than `internal` (a bug). */
export function typed(err: unknown): ZkguestError {
  if (!(err instanceof ZkguestError)) throw new Error(`threw a non-ZkguestError: ${err instanceof Error ? err.stack : String(err)}`);
  expect(err.code, err.message).to.not.equal("internal");
  return err;
}

/** The typed error `f` throws; fails if it returns. */
export function thrown(f: () => unknown): ZkguestError {
  try {
    f();
  } catch (e) {
    return typed(e);
  }
  throw new Error("did not throw");
}

/** fsck.fat -n exits 0 and the store's own check finds nothing. */
export function expectClean(img: string): void {
  const r = fsck(img);
  expect(r.status, r.output).to.equal(0);
  expect(checkVolume(img).problems).to.deep.equal([]);
}

/** Deterministic pseudo-random bytes (tests must be reproducible). */
export function bytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** The crash test's paths and the content a write of generation `gen` puts at a path. */
export const CRASH_PATHS: readonly string[] = [
  ...["/R0.BIN", "/R1.BIN", "/R2.BIN", "/R3.BIN"],
  ...[0, 1, 2].flatMap((d) => Array.from({ length: 8 }, (_, f) => `/D${d}/F${f}.BIN`)),
];

export function crashContent(path: string, gen: number): Uint8Array {
  let h = gen;
  for (const ch of path) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  // Mostly small, sometimes tens of clusters, now and then a large one.
  const kind = h % 10;
  const size = kind < 5 ? h % 700 : kind < 9 ? h % 20_000 : 60_000 + (h % 40_000);
  return bytes(size, h);
}
