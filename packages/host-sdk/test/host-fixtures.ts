import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { encode, frame, PROTOCOL_VERSION, type Body, type GuestRequestKind, type Message, type Value } from "@zkguest/protocol";
import { createArtifact } from "../src/artifact.js";

// Guests and helpers shared by the session, pool and host tests.

const here = path.dirname(fileURLToPath(import.meta.url));
const EXAMPLE = path.resolve(here, "../../../../examples/c-guest");
const SCRIPT_SOURCE = path.resolve(here, "../../test/guests/script-guest.c");
const SCRIPT_WASM = path.resolve(here, "guests/script-guest.wasm");

/** Skips the suite when clang cannot build wasm32-wasi guests (CI installs it). */
export function requireClang(ctx: Mocha.Context): void {
  if (spawnSync(process.env.CC ?? "clang", ["--version"]).error) {
    console.warn("    skipped: clang is not installed (install clang, lld, wasi-libc, libclang-rt-14-dev-wasm32)");
    ctx.skip();
  }
}

let exampleWasm: Uint8Array | undefined;
let scriptWasm: Uint8Array | undefined;

/** examples/c-guest, built from source with its own script. */
export function exampleGuestWasm(): Uint8Array {
  if (exampleWasm === undefined) {
    execFileSync("sh", [path.join(EXAMPLE, "build.sh")], { stdio: "pipe" });
    exampleWasm = readFileSync(path.join(EXAMPLE, "build/guest.wasm"));
  }
  return exampleWasm;
}

/** test/guests/script-guest.c with the example's protocol code: a guest driven by its arguments. */
export function scriptGuestWasm(): Uint8Array {
  if (scriptWasm === undefined) {
    const sources = [SCRIPT_SOURCE, path.join(EXAMPLE, "src/zkguest.c"), path.join(EXAMPLE, "src/msgpack.c")];
    const built = statSync(SCRIPT_WASM, { throwIfNoEntry: false });
    if (built === undefined || sources.some((s) => statSync(s).mtimeMs > built.mtimeMs)) {
      mkdirSync(path.dirname(SCRIPT_WASM), { recursive: true });
      execFileSync(process.env.CC ?? "clang", [
        "--target=wasm32-wasi", "-mexec-model=reactor", "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror",
        "-Wl,--stack-first", "-Wl,-z,stack-size=65536", `-I${path.join(EXAMPLE, "src")}`, "-o", SCRIPT_WASM, ...sources,
      ], { stdio: "pipe" });
    }
    scriptWasm = readFileSync(SCRIPT_WASM);
  }
  return scriptWasm;
}

/** A .zkg artifact of a wasm guest. */
export function wasmArtifact(name: string, code: Uint8Array): Uint8Array {
  return createArtifact({ name, engine: "wasm", code, protocol: { min: PROTOCOL_VERSION, max: PROTOCOL_VERSION } }).bytes;
}

/** A guest request frame for the script guest to send as it is. */
export function request<K extends GuestRequestKind>(kind: K, body: Body<K>, id = 1): Uint8Array {
  return encode(frame(kind, id, body) as Message);
}

/** Script guest steps (see script-guest.c). */
export type Step = Uint8Array | "ready" | "print" | "spin" | "trap" | "recurse" | "oom" | "exit" | "echo" | { frame: Uint8Array; repeat: number };

/** The arguments that make the script guest run these steps in each phase. */
export function script(witness: Step[], entrypoint: Step[] = []): Value {
  return { entrypoint, witness } as Value;
}

/** A fresh temporary directory, removed by the returned function. */
export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
