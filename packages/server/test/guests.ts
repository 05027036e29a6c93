import * as esbuild from "esbuild";
import { GUEST_BUNDLE_OPTIONS, guestEntrySource } from "@zkguest/guest-sdk/bundle";
import { createArtifact } from "@zkguest/host-sdk";
import path from "node:path";
import { fileURLToPath } from "node:url";

// Guests the server tests deploy, bundled with the SDK as `zkguest build` does.

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..");

async function bundle(contents: string): Promise<Uint8Array> {
  const out = await esbuild.build({ ...GUEST_BUNDLE_OPTIONS, stdin: { contents, resolveDir: REPO, loader: "ts" }, write: false, logLevel: "silent" });
  return out.outputFiles![0]!.contents;
}

function artifact(name: string, code: Uint8Array): Uint8Array {
  return createArtifact({ name, engine: "js", code, protocol: { min: [1, 0], max: [1, 0] } }).bytes;
}

/** examples/hello-js: proves the sum of `numbers`, stores the proof at /var/share/proof.bin. */
export async function helloGuest(): Promise<Uint8Array> {
  return artifact("hello", await bundle(guestEntrySource("./examples/hello-js/controller.ts")));
}

/** A guest whose witness step throws. */
export async function throwingGuest(): Promise<Uint8Array> {
  return artifact(
    "throws",
    await bundle(`
      import { defineController, log, serve } from "@zkguest/guest-sdk";
      serve(defineController({ getWitnesses(args) { log.info("about to fail"); throw new RangeError("bad input " + JSON.stringify(args)); }, entrypoint() {} }));`),
  );
}

/**
 * A guest that keeps a journal: each entrypoint appends `args.n` to /RUNS.TXT and stores it in
 * /LAST.TXT, so that the disk shows whether every job's entrypoint took effect exactly once.
 * `args.pad` bytes are added to /PAD.BIN by the witness step (a bigger write).
 */
export async function journalGuest(): Promise<Uint8Array> {
  return artifact(
    "journal",
    await bundle(`
      import { defineController, encodeUtf8, fs, serve } from "@zkguest/guest-sdk";
      serve(defineController({
        getWitnesses(args) {
          if (args.pad) fs.append("/pad.bin", new Uint8Array(args.pad).fill(args.n % 251));
          return [{ type: "data", data: encodeUtf8(String(args.n)) }];
        },
        entrypoint(result) {
          if (!result.success) throw new Error("proving failed: " + result.error.message);
          fs.append("/runs.txt", result.args.n + "\\n");
          fs.store("/last.txt", String(result.args.n));
        },
      }));`),
  );
}

/** A guest whose witness step counts to `args.spin` (a run that takes a while, without a clock). */
export async function spinningGuest(): Promise<Uint8Array> {
  return artifact(
    "spins",
    await bundle(`
      import { defineController, encodeUtf8, serve } from "@zkguest/guest-sdk";
      serve(defineController({ getWitnesses(args) { let x = 0; for (let i = 0; i < args.spin; i++) x += i; return [{ type: "data", data: encodeUtf8(String(x)) }]; }, entrypoint() {} }));`),
  );
}
