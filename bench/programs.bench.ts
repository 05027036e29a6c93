import { createArtifact, Host } from "@zkguest/host-sdk";
import { PROTOCOL_VERSION } from "@zkguest/protocol";
import { bundleController } from "zkguest";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { median, type BenchRow, type BenchSection } from "./harness.js";

/**
 * How a run's cost grows with the number of programs a host serves (issue 13): full lifecycles
 * per second, round-robin over N programs (each run takes the next program), against 2 programs
 * in the same run; and what each program costs in memory: the growth of the sandboxes' and the
 * host's resident memory from 2 programs to N, per program. The programs are the same guest
 * (bench/guests/sum-controller.ts) with a different trailing comment: different ids, one job.
 */
const GUEST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../guests/sum-controller.ts");
const GOAL_RATIO_AT_200 = 0.6;
const COUNTS = [2, 20, 200, 1000];
const ARGS = { numbers: [1, 2, 3, 4, 5, 6, 7, 8] };

/** Resident memory of the host process and its sandboxes, in bytes (Linux /proc). */
function residentBytes(host: Host): number {
  let total = process.memoryUsage().rss;
  for (const pid of host.stats().sandboxes) {
    if (pid === undefined) continue;
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    total += Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
  }
  return total;
}

/** Full runs per second, round-robin over `programs` with `loops` runs in flight, median of 3 one-second windows after a pass over all of them. */
async function roundRobin(host: Host, programs: readonly string[], loops: number): Promise<number> {
  let next = 0;
  const runFor = async (until: () => boolean): Promise<number> => {
    let done = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: loops }, async () => {
        while (!until()) {
          const report = await host.prove(programs[next++ % programs.length]!, ARGS);
          if (report.status !== "proved") throw new Error(`bench run failed: ${report.error?.code}: ${report.error?.message}`);
          done++;
        }
      }),
    );
    return done / ((performance.now() - started) / 1000);
  };
  const warm = next + programs.length;
  await runFor(() => next >= warm);
  const rates: number[] = [];
  for (let i = 0; i < 3; i++) {
    const end = performance.now() + 1000;
    rates.push(await runFor(() => performance.now() >= end));
  }
  return median(rates);
}

export async function run(): Promise<BenchSection[]> {
  const { code } = await bundleController(GUEST);
  const workers = Math.max(1, Math.min(os.availableParallelism(), 4));
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "zkguest-bench-programs-"));
  const host = await Host.create({ dataDir, devMode: true, poolSize: workers });
  const rows: BenchRow[] = [];
  try {
    const programs: string[] = [];
    const deploy = async (count: number) => {
      while (programs.length < count) {
        const variant = Buffer.concat([code, Buffer.from(`\n// bench program ${programs.length}\n`)]);
        programs.push(await host.deploy(createArtifact({ name: `p${programs.length}`, engine: "js", code: variant, protocol: { min: PROTOCOL_VERSION, max: PROTOCOL_VERSION } }).bytes));
      }
    };
    let base: { rate: number; memory: number } | undefined;
    for (const count of COUNTS) {
      await deploy(count);
      const rate = await roundRobin(host, programs.slice(0, count), workers);
      const memory = residentBytes(host);
      base ??= { rate, memory };
      const perProgram = count > COUNTS[0]! ? (memory - base.memory) / (count - COUNTS[0]!) : undefined;
      rows.push({
        name: `full lifecycle runs, round-robin over ${count} programs, ${workers} sandboxes${perProgram === undefined ? "" : ` (memory per program: ${(perProgram / 1024).toFixed(0)} KiB)`}`,
        value: rate,
        unit: "runs/s",
        baselineName: `the same over ${COUNTS[0]} programs, this run`,
        baselineValue: base.rate,
        higherIsBetter: true,
        ...(count === 200 ? { goal: `>= ${GOAL_RATIO_AT_200}x the ${COUNTS[0]}-program rate`, goalMet: rate >= GOAL_RATIO_AT_200 * base.rate } : {}),
      });
    }
  } finally {
    await host.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return [
    {
      title: "Many programs: lifecycle throughput and memory by the number of programs",
      baseline: "the same host round-robin over 2 programs, in the same run",
      notes: [
        `Guest: bench/guests/sum-controller.ts (${code.length.toLocaleString("en-US")} bytes), one variant per program.`,
        `Each run takes the next program in turn, ${workers} runs in flight (one per sandbox, as the lifecycle rows of the sandbox section); median of three 1 s windows after one pass over all the programs.`,
        "Memory per program: the resident memory of the host and its sandboxes after the round-robin, less that after the 2-program one, divided by the programs added.",
        "Each sandbox keeps compiled guests and their snapshots within its cache budget (128 MiB); past it, the least recently used are evaluated again.",
      ].join(" "),
      rows,
    },
  ];
}
