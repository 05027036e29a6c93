import { expect } from "chai";
import fc from "fast-check";
import { parentPort, workerData } from "node:worker_threads";
import { checkVolume, MemoryBlockDevice, Volume, type Stat } from "../src/index.js";
import { baseImage, put16, put32, regions, toolImage } from "./images.js";
import { bytes, tempDir, typed } from "./tools.js";

/**
 * The hostile-image fuzz, run in a worker thread so that the test can stop it and fail if a
 * mutated image ever makes the store loop: a synchronous hang cannot be interrupted otherwise.
 */
/** Reads everything reachable (bounded: loops are possible on purpose), then, if writable, changes a few things. */
function exercise(img: Uint8Array, readOnly: boolean): void {
  const v = Volume.open(new MemoryBlockDevice(img), { readOnly });
  try {
    const seen = new Set<string>();
    const todo = ["/"];
    let files: string[] = [];
    let visits = 0;
    while (todo.length > 0 && visits++ < 200) {
      const dir = todo.pop()!;
      let entries: Stat[];
      try {
        entries = v.list(dir);
      } catch (e) {
        typed(e);
        continue;
      }
      for (const s of entries.slice(0, 100)) {
        const p = (dir === "/" ? "/" : dir + "/") + s.name;
        try {
          v.stat(p);
          if (s.type === "dir" && !seen.has(p) && p.split("/").length < 8) todo.push(p);
          if (s.type === "file") {
            files.push(p);
            v.readFile(p, { offset: 0, length: 70_000 });
          }
        } catch (e) {
          typed(e); // names the store cannot address (not 8.3) land here too
        }
        seen.add(p);
      }
    }
    v.usage();
    if (readOnly) return;
    files = files.slice(0, 3);
    const attempts: (() => unknown)[] = [
      () => v.writeFile("/NEW/FUZZ.BIN", bytes(3000, 9)),
      ...files.map((f) => () => v.writeFile(f, "overwritten")),
      ...files.map((f) => () => v.appendFile(f, bytes(700, 4))),
      ...files.slice(0, 1).map((f) => () => v.rename(f, "/MOVED.BIN")),
      () => v.remove("/MOVED.BIN"),
      () => v.mkdir("/X/Y/Z", { parents: true }),
    ];
    for (const attempt of attempts) {
      try {
        attempt();
      } catch (e) {
        typed(e);
      }
    }
  } finally {
    v.close();
  }
}

type Mutation = { what: string; at: (img: Uint8Array) => number; width: 1 | 2 | 4; value: number };
const anyByte = fc.record({ at: fc.integer({ min: 0, max: 70_000 }), value: fc.integer({ min: 0, max: 255 }) }).map(
  (m): Mutation => ({ what: `byte ${m.at} = ${m.value}`, at: () => m.at, width: 1, value: m.value }),
);
const bootField = fc.record({ at: fc.constantFrom(11, 12, 13, 14, 16, 17, 19, 21, 22, 32, 35, 38, 510, 511), value: fc.integer({ min: 0, max: 255 }) }).map(
  (m): Mutation => ({ what: `boot byte ${m.at} = ${m.value}`, at: () => m.at, width: 1, value: m.value }),
);
const clusterNumber = fc.oneof(fc.integer({ min: 0, max: 70 }), fc.constantFrom(1, 0xfff0, 0xfff6, 0xfff7, 0xfff8, 0xffff, 4102, 4103, 8000));
// FAT entries of the clusters in use: cycles, cross-links, bad marks, pointers out of range.
const fatEntry = fc.record({ cluster: fc.integer({ min: 0, max: 70 }), value: clusterNumber, copy: fc.constantFrom(0, 1) }).map(
  (m): Mutation => ({
    what: `FAT${m.copy + 1}[${m.cluster}] = ${m.value}`,
    at: (img) => (m.copy ? regions(img).fat2 : regions(img).fat1) + 2 * m.cluster,
    width: 2,
    value: m.value,
  }),
);
// A pointer back a few clusters: a cycle whenever both are in one chain.
const backPointer = fc.record({ cluster: fc.integer({ min: 3, max: 70 }), back: fc.integer({ min: 0, max: 5 }) }).map(
  (m): Mutation => ({
    what: `FAT1[${m.cluster}] = ${Math.max(2, m.cluster - m.back)}`,
    at: (img) => regions(img).fat1 + 2 * m.cluster,
    width: 2,
    value: Math.max(2, m.cluster - m.back),
  }),
);
// Fields of directory entries, in the root or in the first subdirectory clusters.
const entryField = fc
  .record({
    inRoot: fc.boolean(),
    slot: fc.integer({ min: 0, max: 60 }),
    field: fc.constantFrom(
      { offset: 0, width: 1 as const, values: [0, 0xe5, 0x2e, 0x20, 0x61, 0x05] },
      { offset: 11, width: 1 as const, values: [0, 0x08, 0x0f, 0x10, 0x20, 0x18] },
      { offset: 20, width: 2 as const, values: [1, 0xffff] },
      { offset: 26, width: 2 as const, values: [0, 1, 2, 3, 5, 9, 30, 4102, 0xffff] },
      { offset: 28, width: 4 as const, values: [0, 1, 511, 512, 513, 5000, 70_000, 0xffffffff] },
    ),
    pick: fc.nat(),
  })
  .map(
    (m): Mutation => ({
      what: `${m.inRoot ? "root" : "data"} slot ${m.slot} byte ${m.field.offset} = ${m.field.values[m.pick % m.field.values.length]}`,
      at: (img) => (m.inRoot ? regions(img).root : regions(img).data) + 32 * m.slot + m.field.offset,
      width: m.field.width,
      value: m.field.values[m.pick % m.field.values.length]!,
    }),
  );
// Mostly structure-aware: boot-sector damage stops everything early, so it is the rarest.
const mutation = fc.oneof(
  { arbitrary: anyByte, weight: 2 },
  { arbitrary: bootField, weight: 1 },
  { arbitrary: fatEntry, weight: 5 },
  { arbitrary: backPointer, weight: 2 },
  { arbitrary: entryField, weight: 6 },
);

/**
 * FAT16_FUZZ_SEED (and FAT16_FUZZ_PATH) replay a failure that fast-check reported; otherwise the
 * suite's FC_SEED applies here too (this worker has its own fast-check).
 */
function replay(): { seed?: number; path?: string } {
  const seed = process.env["FAT16_FUZZ_SEED"] ?? process.env["FC_SEED"];
  const path = process.env["FAT16_FUZZ_PATH"];
  return { ...(seed ? { seed: Number(seed) } : {}), ...(path ? { path } : {}) };
}

const tmp = tempDir();
const bases = [baseImage(), toolImage(tmp.file)];
tmp.cleanup();

try {
  fc.assert(
  fc.property(fc.nat(bases.length - 1), fc.array(mutation, { minLength: 1, maxLength: 8 }), (which, muts) => {
    const img = Uint8Array.from(bases[which]!);
    for (const m of muts) {
      const at = m.at(img);
      if (at + m.width > img.length) continue;
      if (m.width === 1) img[at] = m.value;
      else if (m.width === 2) put16(img, at, m.value);
      else put32(img, at, m.value);
    }
    const started = Date.now();
    try {
      checkVolume(new MemoryBlockDevice(img));
    } catch (e) {
      typed(e);
    }
    for (const readOnly of [true, false]) {
      let wrote = false;
      try {
        exercise(img, readOnly);
        wrote = !readOnly;
      } catch (e) {
        typed(e);
      }
      if (wrote) {
        // The store accepted the volume for writing: what it leaves must not be damaged.
        const blocking = checkVolume(new MemoryBlockDevice(img)).problems.filter((p) => p.blocksWriting);
        expect(blocking, JSON.stringify(blocking)).to.deep.equal([]);
      }
    }
    expect(Date.now() - started, "time for one mutated image").to.be.below(5000);
  }),
  { numRuns: (workerData as { runs: number }).runs, ...replay() },
  );
  parentPort!.postMessage({ ok: true });
} catch (err) {
  // fast-check's message has the seed and counterexample; its cause has the failed assertion.
  const e = err as Error & { cause?: unknown };
  parentPort!.postMessage({ ok: false, message: `${e.message}\nCaused by: ${e.cause instanceof Error ? e.cause.message : String(e.cause)}` });
}
