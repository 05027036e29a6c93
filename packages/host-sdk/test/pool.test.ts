import { expect } from "chai";
import path from "node:path";
import { formatVolume } from "@zkguest/fat16";
import type { Value } from "@zkguest/protocol";
import { spawn } from "node:child_process";
import { WorkerPool, type PoolOptions } from "../src/pool/pool.js";
import type { JournalReader } from "../src/pool/journal.js";
import type { PhaseJob } from "../src/pool/messages.js";
import type { PhaseOutcome } from "../src/session/session.js";
import { DEFAULT_RUN_LIMITS, resolveLimits, type RunLimits } from "../src/run-limits.js";
import { request, requireClang, script, scriptGuestWasm, tempDir, type Step } from "./host-fixtures.js";

const LIMITS = resolveLimits(DEFAULT_RUN_LIMITS, { timeMs: 2_000, memoryBytes: 16 * 1024 * 1024 });
const READY = request("witness.ready", { witnesses: [{ type: "data", data: new Uint8Array([7]) }] });
const LOG = request("log", { level: "info", message: "about to misbehave" });

/** Waits until `ready()` holds, checking every 10 ms; fails after `ms`. */
async function until(ready: () => boolean, ms = 5_000): Promise<void> {
  const end = performance.now() + ms;
  while (!ready()) {
    if (performance.now() > end) throw new Error(`not ready within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

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

  describe("a sandbox that dies of anything fails its phase with a typed error, and the next phase runs in a new one", () => {
    const crashSandbox = new URL("./pool-crash-sandbox.js", import.meta.url);

    async function dies(program: string, options: Partial<PoolOptions> = {}): Promise<PhaseOutcome> {
      pool = new WorkerPool({ size: 1, sandboxUrl: crashSandbox, ...options });
      const outcome = await pool.run({ ...job([READY]), program });
      expect((await pool.run(job([READY]))).error, "the next phase runs").to.equal(undefined);
      expect(pool.stats).to.deep.include({ workersDied: 1, workersStarted: 2 });
      return outcome;
    }

    it("an uncaught exception in the sandbox: internal", async () => {
      const outcome = await dies("crash");
      expect(outcome.error).to.deep.include({ code: "internal" });
      expect(outcome.error?.message, "nothing of the host's in what a guest is told").to.equal("the sandbox running the guest died (exit code 1) and was replaced");
      expect(outcome.error?.stack, "the host keeps the detail").to.match(/pool-crash-sandbox[^]*the test sandbox crashes on purpose/);
    });

    it("a native crash of the whole process (SIGSEGV): internal", async () => {
      const outcome = await dies("segv");
      expect(outcome.error).to.deep.include({ code: "internal" });
      expect(outcome.error?.message).to.match(/died \(signal SIGSEGV\)/);
    });

    it("the heap exhausted: V8's fatal out-of-memory aborts the process (it cannot throw there): limit_exceeded memory", async function () {
      this.timeout(20_000);
      const outcome = await dies("heap", { heapBytes: 24 * 1024 * 1024 });
      expect(outcome.error).to.deep.include({ code: "limit_exceeded", limit: "memory" });
      expect(outcome.error?.message).to.match(/ran out of its 24 MiB heap \(signal SIGABRT\)/);
    });

    it("killed from outside mid-phase (SIGKILL, as the OOM killer would): internal, with the logs of the phase so far", async function () {
      pool = new WorkerPool({ size: 1 });
      const running = pool.run(job([LOG, "spin"], resolveLimits(LIMITS, { timeMs: 10_000 })));
      const pid = pool.pids[0]!;
      // The guest is running (it logged first): read from the pool's journal of the sandbox.
      const journal = (pool as unknown as { slots: { sandbox: { journal: JournalReader } }[] }).slots[0]!.sandbox.journal;
      await until(() => journal.recover("witness").logs.length > 0);
      process.kill(pid, "SIGKILL");
      const outcome = await running;
      expect(outcome.error).to.deep.include({ code: "internal" });
      expect(outcome.error?.message).to.match(/died \(signal SIGKILL\)/);
      expect(outcome.logs.map((l) => l.message)[0]).to.equal("about to misbehave");
      expect((await pool.run(job([READY]))).error).to.equal(undefined);
      expect(pool.pids[0]).to.not.equal(pid);
    });

    it("a sandbox that hangs before the guest starts is killed at the load timeout: internal", async function () {
      // Long enough for the next phase's new sandbox to start on a loaded machine.
      pool = new WorkerPool({ size: 1, sandboxUrl: crashSandbox, loadTimeoutMs: 2_000 });
      const outcome = await pool.run({ ...job([READY]), program: "hang" });
      expect(outcome.error).to.deep.include({ code: "internal" });
      expect(outcome.error?.message).to.match(/did not load the engine and the guest within 2000 ms/);
      expect((await pool.run(job([READY]))).error).to.equal(undefined);
    });
  });

  it("sandbox processes do not outlive the host: a host killed with SIGKILL takes none with it", async function () {
    this.timeout(20_000);
    const script = `
      import { WorkerPool } from ${JSON.stringify(new URL("../src/pool/pool.js", import.meta.url).href)};
      const pool = new WorkerPool({ size: 2 });
      const wait = () => pool.pids.every((p) => p !== undefined) ? console.log(JSON.stringify(pool.pids)) : setTimeout(wait, 10);
      wait();
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
    const pids = await new Promise<number[]>((resolve) => child.stdout.once("data", (d: Buffer) => resolve(JSON.parse(d.toString()) as number[])));
    expect(pids).to.have.length(2);
    for (const pid of pids) expect(alive(pid), `sandbox ${pid} runs`).to.equal(true);
    child.kill("SIGKILL");
    await until(() => pids.every((pid) => !alive(pid)), 10_000);
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

  it("is fair between tenants: a tenant's phase does not wait behind another tenant's queued flood", async function () {
    this.timeout(30_000);
    pool = new WorkerPool({ size: 2 });
    await Promise.all([pool.run(job([READY])), pool.run(job([READY]))]); // both sandboxes started, the guest compiled
    // Each busy phase runs until its 300 ms time limit, calling the host all along (no hard stop).
    const busy = resolveLimits(LIMITS, { timeMs: 300, maxHostCalls: 1e9 });
    const poll = request("fs.stat", { path: "/NOPE" });
    const flood = Array.from({ length: 4 }, (_, t) =>
      Array.from({ length: 4 }, () => pool.run({ ...job([{ frame: poll, repeat: 1e9 }], busy), tenant: `flood-${t}` })),
    ).flat();
    await new Promise((r) => setTimeout(r, 50));
    const started = performance.now();
    const quick = await pool.run({ ...job([READY]), tenant: "quiet" });
    const waited = performance.now() - started;
    expect(quick.error).to.equal(undefined);
    // In one FIFO it would wait for 14 phases of 300 ms on 2 sandboxes (over 2 s); fairly, for the first sandbox to be free.
    expect(waited, "the quiet tenant's phase").to.be.below(700);
    for (const o of await Promise.all(flood)) expect(o.error).to.deep.include({ code: "limit_exceeded", limit: "time" });
  });

  it("weighs each sandbox's compiled guests in bytes: past cacheBytes, the least recently used is dropped and its code sent again", async () => {
    // Two programs whose compiled guests each weigh more than half the budget.
    pool = new WorkerPool({ size: 1, cacheBytes: Math.floor(code.length * 5 * 1.5) });
    expect((await pool.run({ ...job([READY]), program: "a" })).error).to.equal(undefined);
    expect((await pool.run({ ...job([READY]), program: "b" })).error).to.equal(undefined);
    // Code the sandbox would fail to compile: accepted only where it has the program compiled.
    const withoutCode = (program: string) => pool.run({ ...job([READY]), program, code: new Uint8Array(0) });
    expect((await withoutCode("b")).error, "b is kept").to.equal(undefined);
    expect((await withoutCode("a")).error?.message, "a was dropped, so its (empty) code was sent").to.match(/invalid guest module/);
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
