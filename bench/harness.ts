/**
 * A tiny benchmark harness: every section measures a subject and its named baseline in the same
 * run, on the same machine, and reports the ratio. bench/run.ts collects sections into
 * docs/benchmarks.md. Subject and baseline batches alternate, so that a change in the machine's
 * load during the run touches both alike; each reports the median of its batches.
 */
export interface BenchRow {
  /** What was measured, e.g. "encode+decode+validate log". */
  readonly name: string;
  readonly value: number;
  /** e.g. "ops/s", "MiB/s", "files/s", "us", "KiB". */
  readonly unit: string;
  readonly baselineName?: string;
  readonly baselineValue?: number;
  /** Whether a larger value is better (throughput) or smaller (latency, memory). */
  readonly higherIsBetter: boolean;
  /** The goal, in words, e.g. "<= 1.5x the plain codec"; and whether this run met it. */
  readonly goal?: string;
  readonly goalMet?: boolean;
}

export interface BenchSection {
  readonly title: string;
  readonly baseline: string;
  readonly notes?: string;
  readonly rows: readonly BenchRow[];
}

/** How many calls of `fn` take about `ms` milliseconds (after warming it up). */
function calibrate(fn: () => void, ms: number): number {
  let batch = 1;
  for (;;) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) fn();
    const took = Number(process.hrtime.bigint() - t0) / 1e6;
    if (took >= ms / 4) return Math.max(1, Math.round((batch * ms) / Math.max(took, 0.001)));
    batch *= 2;
  }
}

function batchRate(fn: () => void, batch: number): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < batch; i++) fn();
  return batch / (Number(process.hrtime.bigint() - t0) / 1e9);
}

/**
 * Ops per second of a subject and its baseline, measured in alternating batches of about
 * `batchMs` each; returns the median rate of each.
 */
export function compareOpsPerSecond(
  subject: () => void,
  baseline: () => void,
  opts: { batchMs?: number; samples?: number } = {},
): { subject: number; baseline: number } {
  const batchMs = opts.batchMs ?? 100;
  const samples = opts.samples ?? 9;
  const subjectBatch = calibrate(subject, batchMs);
  const baselineBatch = calibrate(baseline, batchMs);
  const s: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < samples; i++) {
    s.push(batchRate(subject, subjectBatch));
    b.push(batchRate(baseline, baselineBatch));
  }
  return { subject: median(s), baseline: median(b) };
}

/** Median ops per second of one function over `samples` batches of about `batchMs`. */
export function opsPerSecond(fn: () => void, opts: { batchMs?: number; samples?: number } = {}): number {
  const batch = calibrate(fn, opts.batchMs ?? 100);
  const rates: number[] = [];
  for (let i = 0; i < (opts.samples ?? 9); i++) rates.push(batchRate(fn, batch));
  return median(rates);
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
