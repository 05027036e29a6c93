import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import type { CheckResult } from "../src/conformance/results.js";
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
