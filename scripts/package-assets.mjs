#!/usr/bin/env node
// Copies into each package's dist/ what it needs at run time from outside its own sources, so
// that its npm tarball works on its own (no path into this repository). The sources stay where
// they are (protocol/vectors, examples/): these are build outputs, git-ignored with dist/.
//
//   node scripts/package-assets.mjs [PACKAGE ...] [--strict]
//
// PACKAGE is a directory name under packages/ (all of them when none is given). Building the
// reference guest needs Debian's clang for wasm32-wasi: without it, the build goes on with a
// warning (the CLI then says the reference guest is missing), unless --strict (as `npm pack`
// runs it, through the packages' prepack scripts): a tarball without its assets is an error.
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const at = (...parts) => path.join(root, ...parts);

const ASSETS = {
  "host-sdk": () => {
    // The golden vectors the conformance kits feed to the implementation under test (SPEC.md §9).
    replace(at("protocol/vectors"), at("packages/host-sdk/dist/vectors"), (f) => f.endsWith(".json"));
  },
  cli: () => {
    // The demo's controllers, built by `zkguest demo` from the installed package.
    replace(at("examples/hello-js"), at("packages/cli/dist/examples/hello-js"), (f) => f.endsWith(".ts"));
    replace(at("examples/sum-groth16"), at("packages/cli/dist/examples/sum-groth16"), (f) => /\.(ts|circom)$/.test(f));
    buildReferenceGuest(at("packages/cli/dist/reference-guest/conformance.wasm"));
  },
};

function replace(from, to, keep) {
  rmSync(to, { recursive: true, force: true });
  cpSync(from, to, { recursive: true, filter: (src) => src === from || keep(src) });
}

/** examples/conformance-guest, by its own script, so `zkguest conformance host` needs no compiler. */
function buildReferenceGuest(out) {
  mkdirSync(path.dirname(out), { recursive: true });
  try {
    execFileSync("sh", [at("examples/conformance-guest/build.sh"), out], { stdio: "pipe" });
  } catch (err) {
    rmSync(out, { force: true });
    const why = `building the reference guest (examples/conformance-guest/build.sh, needs clang, lld, wasi-libc, libclang-rt-14-dev-wasm32) failed: ${String(err.stderr ?? err.message).trim()}`;
    if (strict) throw new Error(why);
    process.stderr.write(`package-assets: warning: ${why}\n`);
  }
}

const argv = process.argv.slice(2);
const strict = argv.includes("--strict");
const names = argv.filter((a) => a !== "--strict");
for (const name of names.length > 0 ? names : Object.keys(ASSETS)) {
  const make = ASSETS[name];
  if (make === undefined) throw new Error(`package-assets: no assets for '${name}' (it knows ${Object.keys(ASSETS).join(", ")})`);
  make();
}
