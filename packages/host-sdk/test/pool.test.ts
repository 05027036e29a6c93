import { expect } from "chai";
import path from "node:path";
import { formatVolume } from "@zkguest/fat16";
import type { Value } from "@zkguest/protocol";
import { WorkerPool } from "../src/pool/pool.js";
import type { PhaseJob } from "../src/pool/messages.js";
import { DEFAULT_RUN_LIMITS, resolveLimits, type RunLimits } from "../src/run-limits.js";
import { request, requireClang, script, scriptGuestWasm, tempDir, type Step } from "./host-fixtures.js";

const LIMITS = resolveLimits(DEFAULT_RUN_LIMITS, { timeMs: 2_000, memoryBytes: 16 * 1024 * 1024 });
const READY = request("witness.ready", { witnesses: [{ type: "data", data: new Uint8Array([7]) }] });
const LOG = request("log", { level: "info", message: "about to misbehave" });

describe("worker pool", function () {
  let tmp: ReturnType<typeof tempDir>;
  let image: string;
  let code: Uint8Array;
  let pool: WorkerPool;

  before(function () {
    this.timeout(60_000);
    requireClang(this);
    code = scriptGuestWasm();
    tmp = tempDir("zkguest-pool-");
    image = path.join(tmp.dir, "disk.img");
    formatVolume(image, { size: 4 * 1024 * 1024 });
  });

  after(() => tmp?.remove());

  afterEach(async () => {
    await pool?.close();
  });

  const job = (steps: Step[], limits: RunLimits = LIMITS, program = "script"): PhaseJob => ({
    program,
    engine: "wasm",
    code,
    image,
    input: { phase: "witness", args: script(steps) as Value, limits },
  });

  it("runs phases on the same workers, in parallel, reusing each worker's compiled guest", async function () {
    pool = new WorkerPool({ size: 2 });
    const outcomes = await Promise.all(Array.from({ length: 8 }, () => pool.run(job([READY]))));
    for (const o of outcomes) {
      expect(o.error).to.equal(undefined);
      expect(o.witnesses).to.deep.equal([{ type: "data", data: new Uint8Array([7]) }]);
    }
    expect(pool.stats.workersStarted).to.equal(2);
    // Code the worker would fail to compile: accepted only because the worker has this program compiled.
    const again = await pool.run({ ...job([READY]), code: new Uint8Array(0) });
    expect(again.error).to.equal(undefined);
  });

  it("invalid guest code fails its phase with a typed error", async () => {
    pool = new WorkerPool({ size: 1 });
    const outcome = await pool.run({ ...job([]), program: "garbage", code: new Uint8Array([1, 2, 3]) });
    expect(outcome.error).to.deep.include({ code: "guest_error" });
    expect(outcome.error?.message).to.match(/invalid guest module/);
    expect((await pool.run(job([READY]))).error).to.equal(undefined);
  });

  it("hard stop: a loop that never calls the host is ended by the watchdog, its logs kept, the worker replaced", async function () {
    pool = new WorkerPool({ size: 1, graceMs: 100 });
    const started = performance.now();
    const outcome = await pool.run(job([LOG, "spin"], resolveLimits(LIMITS, { timeMs: 100 })));
    const elapsed = performance.now() - started;
    expect(outcome.error).to.deep.include({ code: "limit_exceeded", limit: "time" });
    expect(elapsed).to.be.below(1_000);
    expect(outcome.hostCalls).to.equal(1);
    expect(outcome.logs.map((l) => [l.source, l.message])).to.deep.equal([
      ["guest", "about to misbehave"],
      ["host", `limit_exceeded (time): ${outcome.error!.message}`],
    ]);
    expect(pool.stats).to.deep.include({ hardStops: 1, workersStarted: 2 });
    expect((await pool.run(job([READY]))).error, "the next phase runs on the new worker").to.equal(undefined);
  });

  it("a worker that crashes fails its phase with `internal`; the pool replaces it", async () => {
    pool = new WorkerPool({ size: 1, workerUrl: new URL("./pool-crash-worker.js", import.meta.url) });
    const outcome = await pool.run({ ...job([READY]), program: "crash" });
    expect(outcome.error).to.deep.include({ code: "internal" });
    expect(outcome.error?.message).to.match(/the worker running the guest died \(the test worker crashes on purpose\)/);
    expect(outcome.error?.stack).to.match(/pool-crash-worker/);
    expect((await pool.run(job([READY]))).error).to.equal(undefined);
    expect(pool.stats).to.deep.include({ workersDied: 1, workersStarted: 2 });
  });

  it("a worker whose heap a guest fills (a log flood past a lax log limit) is replaced: limit_exceeded memory", async function () {
    this.timeout(20_000);
    pool = new WorkerPool({ size: 1, heapBytes: 24 * 1024 * 1024 });
    const big = request("log", { level: "info", message: "z".repeat(8000), fields: { pad: "p".repeat(8000) } });
    const lax = resolveLimits(LIMITS, { maxLogBytes: 2 ** 40, maxHostCalls: 10_000_000, timeMs: 15_000 });
    const outcome = await pool.run(job([{ frame: big, repeat: 1_000_000 }], lax));
    expect(outcome.error).to.deep.include({ code: "limit_exceeded", limit: "memory" });
    expect(outcome.logs.length, "the journal kept the first lines").to.be.greaterThan(10);
    expect((await pool.run(job([READY]))).error).to.equal(undefined);
  });

  it("close() rejects what is running or queued, and later runs", async () => {
    pool = new WorkerPool({ size: 1 });
    const settled = Promise.allSettled([pool.run(job([READY])), pool.run(job([READY]))]);
    await pool.close();
    for (const result of await settled) {
      expect(result.status).to.equal("rejected");
      expect((result as PromiseRejectedResult).reason).to.have.property("code", "invalid_state");
    }
    const error = await pool.run(job([READY])).catch((e: unknown) => e);
    expect(error).to.have.property("code", "invalid_state");
  });
});
