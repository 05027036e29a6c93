import { writeFileSync, mkdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { BenchSection, BenchRow } from "./harness.js";

/** Each entry is a module exporting `run(): Promise<BenchSection[]>`; `npm run bench -- NAME` runs one. */
const SUITES: Record<string, () => Promise<{ run: () => Promise<BenchSection[]> }>> = {
  protocol: () => import("./protocol.bench.js"),
  fat16: () => import("./fat16.bench.js"),
  sandbox: () => import("./sandbox.bench.js"),
  programs: () => import("./programs.bench.js"),
  groth16: () => import("./groth16.bench.js"),
  service: () => import("./service.bench.js"),
  disk: () => import("./disk.bench.js"),
  hash: () => import("./hash.bench.js"),
};

function fmt(n: number | undefined): string {
  if (n === undefined) return "";
  if (n >= 1000) return Math.round(n).toLocaleString("en-US");
  return n >= 10 ? n.toFixed(1) : n.toPrecision(3);
}

function renderRow(r: BenchRow): string {
  const ratio = r.baselineValue !== undefined ? `${(r.value / r.baselineValue).toFixed(2)}x` : "";
  const goal = r.goal ? `${r.goal} ${r.goalMet === undefined ? "" : r.goalMet ? "(met)" : "(**missed**)"}` : "";
  return `| ${r.name} | ${fmt(r.value)} ${r.unit} | ${r.baselineName ?? ""} | ${r.baselineValue === undefined ? "" : `${fmt(r.baselineValue)} ${r.unit}`} | ${ratio} | ${goal} |`;
}

function render(sections: BenchSection[]): string {
  const cpu = os.cpus()[0]?.model ?? "unknown CPU";
  const lines = [
    "# Benchmarks",
    "",
    "Written by `npm run bench` (bench/run.ts); every subject is measured beside its baseline in the same run.",
    "Ratio is subject / baseline of the value column (for ops/s or MiB/s higher is better; for times and memory lower is better).",
    "",
    `- Date: ${new Date().toISOString()}`,
    `- Machine: ${os.cpus().length} x ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}`,
    `- Node ${process.version}`,
    "",
  ];
  for (const s of sections) {
    lines.push(`## ${s.title}`, "", `Baseline: ${s.baseline}`, "");
    if (s.notes) lines.push(s.notes, "");
    lines.push("| measurement | value | baseline | baseline value | ratio | goal |", "|---|---|---|---|---|---|");
    for (const r of s.rows) lines.push(renderRow(r));
    lines.push("");
  }
  return lines.join("\n");
}

async function runAll(only: string[]): Promise<void> {
  const names = only.length ? only : Object.keys(SUITES);
  const sections: BenchSection[] = [];
  for (const name of names) {
    const load = Object.hasOwn(SUITES, name) ? SUITES[name] : undefined;
    if (!load) throw new Error(`unknown benchmark suite '${name}' (have: ${Object.keys(SUITES).join(", ")})`);
    process.stderr.write(`bench: ${name}...\n`);
    const got = await (await load()).run();
    for (const s of got) process.stdout.write(render([s]).split("\n").slice(9).join("\n") + "\n");
    sections.push(...got);
  }
  if (only.length === 0) {
    const here = path.dirname(fileURLToPath(import.meta.url));
    const out = path.resolve(here, "../../docs/benchmarks.md");
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, render(sections));
    process.stderr.write(`bench: wrote ${out}\n`);
  }
}

runAll(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
