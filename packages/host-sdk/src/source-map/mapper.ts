import { Worker } from "node:worker_threads";
import type { LogRecord, RunError, RunReport } from "../report.js";
import type { MapRequest, MapResponse } from "./worker.js";

/**
 * Maps the stacks of failed runs' reports by their programs' source maps (map.ts), in a worker
 * thread: decoding a map is a tenant's input and may take a fifth of a second of CPU, which the
 * host's event loop, serving every other tenant, must not spend. The worker has a heap limit of
 * its own and a deadline per request: a map that makes it die, or take longer than that, leaves
 * its report's stacks as they were (as any map the host does not use does), and the next report
 * gets a new worker.
 */
export interface SourceMapperOptions {
  /** How long a report's stacks may take to map before they are left as they were (default 2 s). */
  readonly timeoutMs?: number;
  /** The worker's heap (default 256 MiB: decoding the largest map the host takes needs about 60). */
  readonly heapMb?: number;
}

type Settle = (stacks: readonly string[] | undefined) => void;

export class SourceMapper {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Settle>();
  private nextId = 0;
  private readonly timeoutMs: number;
  private readonly heapMb: number;

  constructor(options: SourceMapperOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 2000;
    this.heapMb = options.heapMb ?? 256;
  }

  /** The report with the stacks of its error and logs mapped by `sourceMap` (the program's), when it has both. */
  async mapReport(report: RunReport, sourceMap: Uint8Array | undefined): Promise<RunReport> {
    const { error, logs } = report;
    const withStack = [error, ...logs].filter((x): x is RunError | LogRecord => x?.stack !== undefined);
    if (sourceMap === undefined || withStack.length === 0) return report;
    const mapped = await this.mapStacks(report.program, sourceMap, withStack.map((x) => x.stack!));
    if (mapped === undefined) return report;
    const byOriginal = new Map(withStack.map((x, i) => [x, mapped[i]!]));
    const mappedOf = <T extends RunError | LogRecord>(x: T): T => (byOriginal.has(x) ? { ...x, stack: byOriginal.get(x)! } : x);
    return { ...report, ...(error === undefined ? {} : { error: mappedOf(error) }), logs: logs.map(mappedOf) };
  }

  /** Stops the worker; reports mapped later start another. */
  async close(): Promise<void> {
    const worker = this.worker;
    this.stop();
    await worker?.terminate();
  }

  private mapStacks(program: string, map: Uint8Array, stacks: readonly string[]): Promise<readonly string[] | undefined> {
    const worker = this.started();
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        // The worker is busy with this map: whatever else it holds is given up with it.
        void worker.terminate();
        if (this.worker === worker) this.stop();
      }, this.timeoutMs);
      this.pending.set(id, (stacks) => {
        clearTimeout(timer);
        this.pending.delete(id);
        // An idle worker does not keep the process alive; one at work does (its answer is awaited).
        if (this.pending.size === 0) worker.unref();
        resolve(stacks);
      });
      worker.ref();
      const request: MapRequest = { id, program, map, stacks };
      worker.postMessage(request);
    });
  }

  private started(): Worker {
    if (this.worker !== undefined) return this.worker;
    const worker = new Worker(new URL("./worker.js", import.meta.url), {
      resourceLimits: { maxOldGenerationSizeMb: this.heapMb, maxYoungGenerationSizeMb: 16 },
      env: {},
      stdout: true,
      stderr: true,
    });
    worker.on("message", ({ id, stacks }: MapResponse) => this.pending.get(id)?.(stacks));
    // Out of memory, or anything else: the pending reports keep their stacks as they were.
    worker.on("error", () => this.worker === worker && this.stop());
    worker.on("exit", () => this.worker === worker && this.stop());
    worker.unref();
    this.worker = worker;
    return worker;
  }

  /** Forgets the worker, and settles what it was mapping with nothing mapped. */
  private stop(): void {
    this.worker = undefined;
    for (const settle of [...this.pending.values()]) settle(undefined);
  }
}
