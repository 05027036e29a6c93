/**
 * What both conformance kits produce: one row per check, and the table the CLI prints.
 */

/** A check's verdict. `skip` means the check could not apply (the detail says why); it is not a failure. */
export type Verdict = "pass" | "fail" | "skip";

/** One row of a conformance table. */
export interface CheckResult {
  /** What was checked, e.g. `hello offering only 2.0` or `invalid_name: 4-character extension`. */
  readonly check: string;
  readonly result: Verdict;
  /** Why it failed or was skipped, or what was seen when it passed; one line. */
  readonly detail: string;
}

export const pass = (check: string, detail = ""): CheckResult => ({ check, result: "pass", detail });
export const fail = (check: string, detail: string): CheckResult => ({ check, result: "fail", detail });
export const skip = (check: string, detail: string): CheckResult => ({ check, result: "skip", detail });

/** Counts of each verdict. */
export function tally(results: readonly CheckResult[]): Record<Verdict, number> {
  const counts = { pass: 0, fail: 0, skip: 0 };
  for (const r of results) counts[r.result]++;
  return counts;
}

/** Whether every check passed or was skipped. */
export function allPassed(results: readonly CheckResult[]): boolean {
  return results.every((r) => r.result !== "fail");
}

/** Details longer than this are cut in the table (the JSON output keeps them whole). */
const MAX_DETAIL = 160;

/**
 * The table the CLI prints: `check | result | detail`, columns padded, then a totals line.
 * Plain text, so it reads the same in a terminal and in CI logs.
 */
export function formatTable(results: readonly CheckResult[]): string {
  const rows = results.map((r) => [r.check, r.result, oneLine(r.detail)] as const);
  const width = (i: 0 | 1) => Math.max(i === 0 ? "check".length : "result".length, ...rows.map((row) => row[i].length));
  const [w0, w1] = [width(0), width(1)];
  const line = (a: string, b: string, c: string) => `${a.padEnd(w0)} | ${b.padEnd(w1)} | ${c}`.trimEnd();
  const counts = tally(results);
  return [
    line("check", "result", "detail"),
    `${"-".repeat(w0)}-+-${"-".repeat(w1)}-+-${"-".repeat(6)}`,
    ...rows.map(([a, b, c]) => line(a, b, c)),
    "",
    `${results.length} checks: ${counts.pass} passed, ${counts.fail} failed, ${counts.skip} skipped`,
  ].join("\n");
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > MAX_DETAIL ? `${flat.slice(0, MAX_DETAIL - 3)}...` : flat;
}
