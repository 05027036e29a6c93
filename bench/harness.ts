/**
 * A tiny benchmark harness: every section measures a subject and its named baseline in the same
 * run, on the same machine, and reports the ratio. bench/run.ts collects sections into
 * docs/benchmarks.md. Timing uses process.hrtime; each measurement repeats until it has run for
 * at least `minMs`, after a warm-up, and reports the median of `samples` such batches.
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

/** Median of `samples` batches of ops per second for a synchronous function. */
export function opsPerSecond(fn: () => void, opts: { minMs?: number; samples?: number } = {}): number {
  const minMs = opts.minMs ?? 200;
  const samples = opts.samples ?? 5;
  // Warm up the JIT and calibrate a batch size that runs for about minMs.
  let batch = 1;
  for (;;) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) fn();
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (ms >= minMs / 4) {
      batch = Math.max(1, Math.round((batch * minMs) / Math.max(ms, 0.001)));
      break;
    }
    batch *= 2;
  }
  const rates: number[] = [];
  for (let s = 0; s < samples; s++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) fn();
    const sec = Number(process.hrtime.bigint() - t0) / 1e9;
    rates.push(batch / sec);
  }
  return median(rates);
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Ratio subject/baseline expressed so that > 1 means "subject is better". */
export function advantage(row: BenchRow): number | undefined {
  if (row.baselineValue === undefined || row.baselineValue === 0 || row.value === 0) return undefined;
  return row.higherIsBetter ? row.value / row.baselineValue : row.baselineValue / row.value;
}
