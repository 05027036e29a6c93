import { DEFAULT_ENGINE_LIMITS, QuickJsEngine, type QuickJsInstance } from "@zkguest/host-sdk";
import { GUEST_BUNDLE_OPTIONS } from "@zkguest/guest-sdk/bundle";
import { keccak_256 } from "@noble/hashes/sha3.js";
import * as esbuild from "esbuild";
import { createHash } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { compareOpsPerSecond, type BenchRow, type BenchSection } from "./harness.js";

/**
 * Hashing in a JS guest (issue 11): the host's hash functions, called through the guest SDK's
 * sha256/keccak256 (a copy of the bytes into the host, native SHA-256 from node:crypto, Keccak-256
 * from @noble/hashes compiled by V8), against the same @noble/hashes bundled into the guest and
 * run by QuickJS, from 32 B to 1 MiB. Both run in one guest instance, one hash per host request.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const SIZES = [32, 1024, 32 * 1024, 1024 * 1024];
const ALGORITHMS = ["SHA-256", "Keccak-256"] as const;

/** The guest: request byte 0 picks the hash (0, 1: the host's; 2, 3: bundled @noble/hashes), byte 1 the input size. */
const GUEST = `
import { sha256, keccak256 } from "@zkguest/guest-sdk";
import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";
import { keccak_256 as nobleKeccak256 } from "@noble/hashes/sha3.js";
const inputs = ${JSON.stringify(SIZES)}.map((size) => Uint8Array.from({ length: size }, (_, i) => (i * 31 + 7) & 0xff));
const hashes = [sha256, keccak256, nobleSha256, nobleKeccak256];
globalThis.__zkguest_handle = (frame) => {
  const [which, size] = new Uint8Array(frame);
  return hashes[which](inputs[size]).slice().buffer;
};`;

/** The input of size index `size`, as the guest makes it. */
const input = (size: number): Uint8Array => Uint8Array.from({ length: SIZES[size]! }, (_, i) => (i * 31 + 7) & 0xff);

function label(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${bytes / (1024 * 1024)} MiB` : bytes >= 1024 ? `${bytes / 1024} KiB` : `${bytes} B`;
}

export async function run(): Promise<BenchSection[]> {
  const bundle = await esbuild.build({ ...GUEST_BUNDLE_OPTIONS, stdin: { contents: GUEST, resolveDir: ROOT, loader: "js" }, write: false, logLevel: "silent" });
  const nobleOnly = await esbuild.build({
    ...GUEST_BUNDLE_OPTIONS,
    stdin: { contents: 'import { sha256 } from "@noble/hashes/sha2.js"; import { keccak_256 } from "@noble/hashes/sha3.js"; globalThis.h = [sha256, keccak_256];', resolveDir: ROOT, loader: "js" },
    write: false,
    logLevel: "silent",
  });
  const engine = await QuickJsEngine.create();
  const instance: QuickJsInstance = engine.load(bundle.outputFiles[0]!.contents).instantiate(() => new Uint8Array(0), { ...DEFAULT_ENGINE_LIMITS, timeMs: 60_000 });
  const hash = (which: number, size: number) => instance.handle(Uint8Array.of(which, size));
  const rows: BenchRow[] = [];
  try {
    for (const [a, algorithm] of ALGORITHMS.entries()) {
      const native = a === 0 ? (b: Uint8Array) => createHash("sha256").update(b).digest() : (b: Uint8Array) => keccak_256(b);
      for (const [s, size] of SIZES.entries()) {
        const expected = Buffer.from(native(input(s))).toString("hex");
        for (const which of [a, a + 2]) {
          if (Buffer.from(hash(which, s)).toString("hex") !== expected) throw new Error(`bench: ${algorithm} of ${label(size)} (${which}) differs from Node's`);
        }
        // One hash of 1 MiB in QuickJS takes seconds: fewer, single-hash batches there.
        const opts = size >= 1024 * 1024 ? { batchMs: 1, samples: 3 } : { batchMs: 100, samples: 7 };
        const inGuest = compareOpsPerSecond(() => hash(a, s), () => hash(a + 2, s), opts);
        const bytes = input(s);
        const inHost = compareOpsPerSecond(() => hash(a, s), () => native(bytes), opts);
        const us = (opsPerSecond: number) => 1e6 / opsPerSecond;
        rows.push({
          name: `${algorithm} of ${label(size)}: SDK ${a === 0 ? "sha256" : "keccak256"} (host function)`,
          value: us(inGuest.subject),
          unit: "us",
          baselineName: `@noble/hashes in the guest (QuickJS)`,
          baselineValue: us(inGuest.baseline),
          higherIsBetter: false,
        });
        rows.push({
          name: `${algorithm} of ${label(size)}: SDK ${a === 0 ? "sha256" : "keccak256"} (host function)`,
          value: us(inHost.subject),
          unit: "us",
          baselineName: a === 0 ? "node:crypto in Node, no sandbox" : "@noble/hashes in Node, no sandbox",
          baselineValue: us(inHost.baseline),
          higherIsBetter: false,
        });
      }
    }
  } finally {
    instance.dispose();
  }
  const kib = (n: number) => (n / 1024).toFixed(1);
  // How many times faster the host's function is than QuickJS's, per algorithm, smallest and largest.
  const speedups = ALGORITHMS.map((algorithm) => {
    const factors = rows.filter((r) => r.name.startsWith(algorithm) && r.baselineName!.includes("QuickJS")).map((r) => r.baselineValue! / r.value);
    return `${algorithm} ${Math.round(Math.min(...factors))}x to ${Math.round(Math.max(...factors))}x`;
  });
  return [
    {
      title: "JS guests: hashing in the host against hashing in QuickJS (issue 11)",
      baseline: "the same hashes by @noble/hashes 2.4 bundled into the guest and run by QuickJS; and the host's own hash in Node without the sandbox; in the same run, one guest instance, one hash per host request (the request's round trip included)",
      notes:
        `The host's functions are faster than QuickJS running @noble/hashes by ${speedups.join(", ")} (32 B to 1 MiB). ` +
        `Chosen: the host's functions (SPEC.md §11.1). Bundling @noble/hashes' SHA-256 and Keccak-256 would also add ${kib(nobleOnly.outputFiles[0]!.contents.length)} KiB ` +
        "(minified) to every guest that hashes, parsed at each cold start; the SDK's sha256/keccak256 add a few hundred bytes, and nothing to a guest that does not import them.",
      rows,
    },
  ];
}
