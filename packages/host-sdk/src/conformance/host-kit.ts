import { PROTOCOL_VERSION, type Value } from "@zkguest/protocol";
import { createArtifact } from "../artifact.js";
import type { Host } from "../host.js";
import type { RunLimits } from "../run-limits.js";
import { describe } from "../session/session.js";
import { CHECK_LINE, contractArgs, stringField, SUMMARY_LINE, type LogLine } from "./contract.js";
import { fail, pass, tally, type CheckResult, type Verdict } from "./results.js";

/** The arguments that make the reference guest run the host checks. */
export const HOST_KIT_ARGS: Value = contractArgs("host");

/** What the host kit needs of a run of the reference guest, in any host: how it ended and its logs, both phases. */
export interface HostRun {
  /** Whether the run (witness step, proving, entrypoint) succeeded. */
  readonly ok: boolean;
  /** Why it did not. */
  readonly error?: string;
  readonly logs: readonly LogLine[];
}

const VERDICTS: readonly string[] = ["pass", "fail", "skip"];

/** The limits the host kit runs under: the defaults, with quotas small enough for the reference guest to reach. */
export const HOST_KIT_LIMITS: Partial<RunLimits> = { quotaBytes: 1024 * 1024, quotaFiles: 1024 };

/**
 * Runs the reference guest (its wasm module) through the whole lifecycle on `host`: deployed,
 * proved with HOST_KIT_ARGS under HOST_KIT_LIMITS (over `limits`). The host's prover must
 * succeed (a DevProver does).
 */
export async function runOnHost(host: Host, referenceGuest: Uint8Array, limits: Partial<RunLimits> = {}): Promise<HostRun> {
  const artifact = createArtifact({ name: "conformance-guest", engine: "wasm", code: referenceGuest, protocol: { min: PROTOCOL_VERSION, max: PROTOCOL_VERSION } });
  const program = await host.deploy(artifact.bytes);
  const report = await host.prove(program, HOST_KIT_ARGS, { limits: { ...HOST_KIT_LIMITS, ...limits } });
  return { ok: report.status === "proved", ...(report.error === undefined ? {} : { error: describe(report.error) }), logs: report.logs };
}

/**
 * The host kit's table from a run of the reference guest (examples/conformance-guest) with
 * HOST_KIT_ARGS: one row per check line it logged, then one row saying whether it got to the
 * end. That last row fails when the run failed, when the summary line is missing (the guest was
 * stopped, or the host lost its entrypoint's logs), or when the summary, which the guest counts
 * from the logs proof.result gave it back, disagrees with the lines in the run's logs.
 */
export function hostKitResults(run: HostRun): CheckResult[] {
  const rows = run.logs
    .filter((l) => l.message === CHECK_LINE)
    .map((l): CheckResult => {
      const result = stringField(l.fields, "result");
      const check = stringField(l.fields, "check");
      if (!VERDICTS.includes(result)) return fail(check, `the check line's result is '${result}', not pass, fail or skip (were its fields changed?)`);
      return { check, result: result as Verdict, detail: stringField(l.fields, "detail") };
    });
  const name = "the reference guest ran to the end";
  const summary = run.logs.find((l) => l.message === SUMMARY_LINE);
  if (!run.ok) return [...rows, fail(name, `the run failed: ${run.error ?? "no reason given"}`)];
  if (summary === undefined) return [...rows, fail(name, `no ${SUMMARY_LINE} line in the run's logs`)];
  const seen = tally(rows);
  const claimed = { pass: summary.fields?.["pass"], fail: summary.fields?.["fail"], skip: summary.fields?.["skip"] };
  const omitted = summary.fields?.["omitted"];
  if (typeof omitted === "number" && omitted > 0) {
    // The host left the oldest lines out of proof.result to fit max_frame_bytes (SPEC.md §5.1):
    // the guest saw fewer check lines than the run holds, never more, and its own failures count.
    const within = (k: "pass" | "fail" | "skip") => typeof claimed[k] === "number" && (claimed[k] as number) <= seen[k];
    if (!within("pass") || !within("fail") || !within("skip")) return [...rows, fail(name, `the guest counted ${JSON.stringify(claimed)}, more than the run's logs hold (${JSON.stringify(seen)})`)];
    return [...rows, pass(name, `summary: ${seen.pass} passed, ${seen.fail} failed, ${seen.skip} skipped (proof.result left out ${omitted} lines to fit max_frame_bytes)`)];
  }
  if (claimed.pass !== seen.pass || claimed.fail !== seen.fail || claimed.skip !== seen.skip) {
    return [...rows, fail(name, `the guest counted ${JSON.stringify(claimed)} from the logs proof.result gave it, the run's logs hold ${JSON.stringify(seen)}`)];
  }
  return [...rows, pass(name, `summary: ${seen.pass} passed, ${seen.fail} failed, ${seen.skip} skipped`)];
}
