import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import type { CheckResult } from "../src/conformance/results.js";
import type { LoadedGuest } from "../src/engine/engine.js";
import { repoRoot } from "./quickjs-helpers.js";

// Shared by the conformance*.test.ts files.

const REFERENCE_GUEST = path.join(repoRoot, "examples/conformance-guest");

let referenceWasm: Uint8Array | undefined;

/** examples/conformance-guest, built from source with its own script (into its build/ directory). */
export function referenceGuestWasm(): Uint8Array {
  if (referenceWasm === undefined) {
    execFileSync("sh", [path.join(REFERENCE_GUEST, "build.sh")], { stdio: "pipe" });
    referenceWasm = readFileSync(path.join(REFERENCE_GUEST, "build/conformance.wasm"));
  }
  return referenceWasm;
}

/** The JS conformance controller, as a path from the repository root (for bundleController). */
export const JS_CONFORMANCE_CONTROLLER = "examples/conformance-guest/controller.ts";

/** The failed rows, as "check: detail" lines (what a failing expectation prints). */
export function failures(results: readonly CheckResult[]): string[] {
  return results.filter((r) => r.result === "fail").map((r) => `${r.check}: ${r.detail}`);
}

/** Expects the failed checks to be exactly `checks`. */
export function expectFailedChecks(results: readonly CheckResult[], checks: readonly string[]): void {
  const failed = results.filter((r) => r.result === "fail").map((r) => r.check);
  expect(failed, failures(results).join("\n")).to.have.members([...checks]);
}

/**
 * `guest` with the frames its instances are handed (`into`) and answer (`out`) rewritten: how a
 * test makes a guest with one defect, or one that hears another offer than the host made.
 */
export function rewritingFrames(guest: LoadedGuest, change: { into?: (frame: Uint8Array) => Uint8Array; out?: (frame: Uint8Array) => Uint8Array }): LoadedGuest {
  const { into = (b: Uint8Array) => b, out = (b: Uint8Array) => b } = change;
  return {
    engine: guest.engine,
    retainedBytes: guest.retainedBytes,
    dispose: () => guest.dispose(),
    instantiate: (host, limits) => {
      const instance = guest.instantiate(host, limits);
      return { handle: (bytes) => out(instance.handle(into(bytes))), memoryUsed: () => instance.memoryUsed(), drainOutput: () => instance.drainOutput(), dispose: () => instance.dispose() };
    },
  };
}
