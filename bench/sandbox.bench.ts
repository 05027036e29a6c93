import { createArtifact, DEFAULT_ENGINE_LIMITS, Host, QuickJsEngine, type QuickJsGuest } from "@zkguest/host-sdk";
import { decode, DEFAULT_LIMITS, encode, frame, PROTOCOL_VERSION, type Value } from "@zkguest/protocol";
import { newQuickJSWASMModuleFromVariant, type QuickJSWASMModule } from "quickjs-emscripten-core";
import { bundleController } from "zkguest";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { median, type BenchRow, type BenchSection } from "./harness.js";

/**
 * The sandbox (issue 4's goals), each measured beside a bare quickjs-emscripten baseline in the
 * same run: cold start, a host-call round trip, full lifecycle runs per second with the dev
 * prover, and the memory of an idle sandbox. The guest is bench/guests/sum-controller.ts,
 * bundled with the SDK exactly as `zkguest build` does.
 */
const GUEST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../guests/sum-controller.ts");
const GOALS = { coldStartUs: 1000, coldStartRatio: 2, hostCallUs: 10, runsPerSecond: 500 };
const NUMBERS = [1, 2, 3, 4, 5, 6, 7, 8];

const now = (): bigint => process.hrtime.bigint();
const us = (from: bigint, to: bigint): number => Number(to - from) / 1e3;

/** Alternates subject and baseline samples (so load changes touch both) and gives each one's median. */
function compareSamples(subject: () => number, baseline: () => number, samples: number, warmup = 50): { subject: number; baseline: number } {
  for (let i = 0; i < warmup; i++) subject(), baseline();
  const s: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < samples; i++) s.push(subject()), b.push(baseline());
  return { subject: median(s), baseline: median(b) };
}

/** The host's side of a conversation in the engine-level measurements: `ok nil` to every request. */
function okTo(request: Uint8Array): Uint8Array {
  const r = decode(request);
  if (r._tag === "Left") throw new Error(`bench guest sent a bad frame: ${r.left.message}`);
  return encode(frame("ok", r.right.id, { value: null }));
}

const HELLO = encode(frame("hello", 1, { host: "bench", limits: DEFAULT_LIMITS, offer: [PROTOCOL_VERSION] }));
const witnessGet = (args: Value): Uint8Array => encode(frame("witness.get", 2, { args }));
const FIRST_REQUEST = witnessGet({ numbers: NUMBERS });

/** Microseconds from instantiating `guest` to its first host call, through `hello` and a `witness.get`. */
function timeToFirstCall(guest: QuickJsGuest): number {
  let first: bigint | undefined;
  const t0 = now();
  const instance = guest.instantiate((r) => ((first ??= now()), okTo(r)), DEFAULT_ENGINE_LIMITS);
  instance.handle(HELLO);
  instance.handle(FIRST_REQUEST);
  instance.dispose();
  if (first === undefined) throw new Error("the bench guest made no host call");
  return us(t0, first);
}

/** Microseconds for a bare quickjs-emscripten runtime + context + evaluation of `source` as a module. */
function bareEvaluation(bare: QuickJSWASMModule, source: string): number {
  const t0 = now();
  const runtime = bare.newRuntime();
  const context = runtime.newContext();
  context.unwrapResult(context.evalCode(source, "guest.js", { type: "module" })).dispose();
  const took = us(t0, now());
  context.dispose();
  runtime.dispose();
  return took;
}

/**
 * Cold start: from an artifact loaded (compiled and checked) to the guest's first host call:
 * restoring the guest's snapshot (see firstInstance for the evaluation that makes it), `hello`, and
 * `witness.get` until the controller's first `log`. Baseline: a bare quickjs-emscripten
 * runtime + context + evaluation of the same bundle as a module.
 */
function coldStart(guest: QuickJsGuest, bare: QuickJSWASMModule, source: string): BenchRow {
  const sandbox = () => timeToFirstCall(guest);
  const bareEval = () => bareEvaluation(bare, source);
  const { subject, baseline } = compareSamples(sandbox, bareEval, 400);
  const ratio = subject / baseline;
  return {
    name: "cold start: artifact loaded to first host call (median)",
    value: subject,
    unit: "us",
    baselineName: "bare runtime + context + eval of the same bundle",
    baselineValue: baseline,
    higherIsBetter: false,
    goal: `<= ${GOALS.coldStartUs} us and <= ${GOALS.coldStartRatio}x bare (here ${ratio.toFixed(2)}x)`,
    goalMet: subject <= GOALS.coldStartUs && ratio <= GOALS.coldStartRatio,
  };
}

/**
 * The first instance of a program on an engine (once per program per worker, like compiling
 * it): its code evaluated on a module of its own and the snapshot taken, then `hello` and
 * `witness.get` until the first host call. Every later instance restores the snapshot (the cold
 * start row). Baseline as for the cold start.
 */
async function firstInstance(engine: QuickJsEngine, code: Uint8Array, bare: QuickJSWASMModule, source: string): Promise<BenchRow> {
  const subject: number[] = [];
  const baseline: number[] = [];
  for (let i = 0; i < 41; i++) {
    await engine.ready(); // loads the private module a snapshot needs, untimed: a worker does it while idle
    const guest = engine.load(code);
    subject.push(timeToFirstCall(guest));
    guest.dispose();
    baseline.push(bareEvaluation(bare, source));
  }
  return {
    name: "first instance of a program on a worker: evaluated, snapshot taken, to first host call (median)",
    value: median(subject),
    unit: "us",
    baselineName: "bare runtime + context + eval of the same bundle",
    baselineValue: median(baseline),
    higherIsBetter: false,
  };
}

/**
 * Host-call round trip inside the engine: a witness step making `n` extra log calls, less one
 * making none, per call; the host side decodes and validates each request with the protocol
 * codec and encodes the `ok` (no recording). Baseline: a bare quickjs-emscripten host function
 * called `n` times from a guest loop with a 32-byte ArrayBuffer in and out.
 */
function engineHostCall(guest: QuickJsGuest, bare: QuickJSWASMModule): BenchRow {
  const n = 2000;
  const witnessStep = (logs: number): number => {
    const instance = guest.instantiate(okTo, DEFAULT_ENGINE_LIMITS);
    instance.handle(HELLO);
    const t0 = now();
    instance.handle(witnessGet({ numbers: NUMBERS, logs }));
    const took = us(t0, now());
    instance.dispose();
    return took;
  };
  const runtime = bare.newRuntime();
  const context = runtime.newContext();
  const fn = context.newFunction("h", (buffer) => {
    const view = context.getArrayBuffer(buffer);
    const copy = view.value.slice();
    view.dispose();
    return context.newArrayBuffer(copy.buffer);
  });
  context.setProp(context.global, "h", fn);
  fn.dispose();
  const loop = context.unwrapResult(context.evalCode("(n) => { for (let i = 0; i < n; i++) h(new ArrayBuffer(32)); }"));
  const bareLoop = (calls: number): number => {
    const count = context.newNumber(calls);
    const t0 = now();
    context.unwrapResult(context.callFunction(loop, context.undefined, count)).dispose();
    const took = us(t0, now());
    count.dispose();
    return took;
  };
  const { subject, baseline } = compareSamples(
    () => (witnessStep(n) - witnessStep(0)) / n,
    () => (bareLoop(n) - bareLoop(0)) / n,
    31,
    3,
  );
  loop.dispose();
  context.dispose();
  runtime.dispose();
  return {
    name: "host call in the engine: guest log() to ok, protocol codec on the host side (median)",
    value: subject,
    unit: "us",
    baselineName: "bare quickjs-emscripten host function, ArrayBuffer in and out",
    baselineValue: baseline,
    higherIsBetter: false,
    goal: `<= ${GOALS.hostCallUs} us`,
    goalMet: subject <= GOALS.hostCallUs,
  };
}

/**
 * Memory of an idle sandbox, as QuickJS counts it (memory_used_size): an instance with the
 * prelude and the guest evaluated, waiting for `hello`. Baseline: a bare runtime + context.
 */
function idleMemory(guest: QuickJsGuest, bare: QuickJSWASMModule): BenchRow {
  const instance = guest.instantiate(okTo, DEFAULT_ENGINE_LIMITS);
  const subject = instance.memoryUsed();
  instance.dispose();
  const runtime = bare.newRuntime();
  const context = runtime.newContext();
  const usage = runtime.computeMemoryUsage();
  const baseline = (context.dump(usage) as { memory_used_size: number }).memory_used_size;
  usage.dispose();
  context.dispose();
  runtime.dispose();
  return {
    name: "memory of an idle sandbox (guest evaluated, before hello)",
    value: subject / 1024,
    unit: "KiB",
    baselineName: "bare runtime + context, no code",
    baselineValue: baseline / 1024,
    higherIsBetter: false,
  };
}

/**
 * Full lifecycle runs per second through Host.prove with the dev prover and a worker per core:
 * hello, witness step, proof, entrypoint storing the proof on the FAT-16 disk, report. One
 * program per worker (runs of one program are serialized on its disk). Baseline: the bare
 * engine on this thread doing the same witness computation per run (runtime + context + eval
 * of the bundle + a direct call of getWitnesses' arithmetic), without protocol, prover, disk or
 * workers.
 */
async function lifecycle(code: Uint8Array, sourceMap: Uint8Array | undefined, bare: QuickJSWASMModule): Promise<BenchRow[]> {
  const workers = Math.max(1, Math.min(os.availableParallelism(), 4));
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "zkguest-bench-"));
  const host = await Host.create({ dataDir, devMode: true, poolSize: workers });
  try {
    // Programs differ only by a trailing comment: different ids, the same guest (with its source map, as `zkguest build` makes it).
    const programs: string[] = [];
    for (let i = 0; i < 12 * workers; i++) {
      const variant = Buffer.concat([code, Buffer.from(`\n// bench program ${i}\n`)]);
      const artifact = createArtifact({ name: `bench${i}`, engine: "js", code: variant, protocol: { min: PROTOCOL_VERSION, max: PROTOCOL_VERSION }, ...(sourceMap === undefined ? {} : { sourceMap }) });
      programs.push(await host.deploy(artifact.bytes));
    }
    const subject = await runsPerSecond(host, programs.slice(0, workers), { numbers: NUMBERS });
    // More programs than a worker keeps snapshots of (8): some are evaluated at every phase.
    const many = await runsPerSecond(host, programs, { numbers: NUMBERS });

    // The host-call round trip through Host.execute: the whole stack (worker, session, report).
    const n = 2000;
    const execute = async (logs: number): Promise<number> => {
      const t0 = now();
      const report = await host.execute(programs[0]!, { numbers: NUMBERS, logs });
      if (report.status !== "executed") throw new Error(`bench run failed: ${report.error?.code}: ${report.error?.message}`);
      return us(t0, now());
    };
    const perCall: number[] = [];
    for (let i = 0; i < 11; i++) perCall.push(((await execute(n)) - (await execute(0))) / n);

    const source = Buffer.from(code).toString("utf8");
    const bareRun = (): void => {
      const runtime = bare.newRuntime();
      const context = runtime.newContext();
      context.unwrapResult(context.evalCode(source, "guest.js", { type: "module" })).dispose();
      const witness = context.unwrapResult(context.evalCode(`JSON.stringify({ numbers: ${JSON.stringify(NUMBERS)}, sum: ${JSON.stringify(NUMBERS)}.reduce((a, b) => a + b, 0) })`));
      context.getString(witness);
      witness.dispose();
      context.dispose();
      runtime.dispose();
    };
    for (let i = 0; i < 200; i++) bareRun();
    const bareRates: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      let count = 0;
      while (performance.now() - t0 < 1000) bareRun(), count++;
      bareRates.push(count / ((performance.now() - t0) / 1000));
    }
    return [
      {
        name: `full lifecycle runs, JS guest, dev prover, ${workers} workers, ${workers} programs`,
        value: subject,
        unit: "runs/s",
        baselineName: "bare engine, same witness computation, 1 thread, no protocol/prover/disk",
        baselineValue: median(bareRates),
        higherIsBetter: true,
        goal: `>= ${GOALS.runsPerSecond} runs/s`,
        goalMet: subject >= GOALS.runsPerSecond,
      },
      {
        name: `full lifecycle runs, JS guest, dev prover, ${workers} workers, ${programs.length} programs (more than the workers' snapshots)`,
        value: many,
        unit: "runs/s",
        baselineName: `the same with ${workers} programs, this run`,
        baselineValue: subject,
        higherIsBetter: true,
      },
      ...(await wasmLifecycle(host, workers, subject)),
      {
        name: "host call through Host.execute: guest log() recorded in the report (median)",
        value: median(perCall),
        unit: "us",
        higherIsBetter: false,
        goal: `<= ${GOALS.hostCallUs} us`,
        goalMet: median(perCall) <= GOALS.hostCallUs,
      },
    ];
  } finally {
    await host.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Full runs per second through Host.prove, one loop per program (each on its own disk), median of 5 seconds. */
async function runsPerSecond(host: Host, programs: readonly string[], args: Value): Promise<number> {
  const runFor = async (ms: number): Promise<number> => {
    let done = 0;
    const until = performance.now() + ms;
    await Promise.all(
      programs.map(async (program) => {
        while (performance.now() < until) {
          const report = await host.prove(program, args);
          if (report.status !== "proved") throw new Error(`bench run failed: ${report.error?.code}: ${report.error?.message}`);
          done++;
        }
      }),
    );
    return done / (ms / 1000);
  };
  await runFor(500);
  const rates: number[] = [];
  for (let i = 0; i < 5; i++) rates.push(await runFor(1000));
  return median(rates);
}

/**
 * The same lifecycle with the C example guest (examples/c-guest, wasm32-wasi), built with
 * clang: it logs, sends one data witness and stores the proof, as the JS guest does. Its
 * baseline is the JS guest's rate on the same host in this run. Skipped without clang.
 */
async function wasmLifecycle(host: Host, workers: number, jsRate: number): Promise<BenchRow[]> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const wasmPath = path.join(os.tmpdir(), `zkguest-bench-c-guest-${process.pid}.wasm`);
  try {
    execFileSync("sh", [path.resolve(here, "../../examples/c-guest/build.sh"), wasmPath], { stdio: "ignore" });
  } catch {
    process.stderr.write("bench: sandbox: clang could not build examples/c-guest; the C guest row is left out\n");
    return [];
  }
  const wasm = readFileSync(wasmPath);
  rmSync(wasmPath, { force: true });
  const programs: string[] = [];
  for (let i = 0; i < workers; i++) {
    // A custom section (id 0) at the end makes each program's code, and so its id, different.
    const name = Buffer.from(`bench${i}`);
    const variant = Buffer.concat([wasm, Buffer.from([0, name.length + 1, name.length]), name]);
    programs.push(await host.deploy(createArtifact({ name: `c-bench${i}`, engine: "wasm", code: variant, protocol: { min: PROTOCOL_VERSION, max: PROTOCOL_VERSION } }).bytes));
  }
  const rate = await runsPerSecond(host, programs, { numbers: NUMBERS });
  return [
    {
      name: `full lifecycle runs, C guest (wasm32-wasi), dev prover, ${workers} workers, ${workers} programs`,
      value: rate,
      unit: "runs/s",
      baselineName: "the JS guest on the same host, this run",
      baselineValue: jsRate,
      higherIsBetter: true,
      goal: `>= ${GOALS.runsPerSecond} runs/s`,
      goalMet: rate >= GOALS.runsPerSecond,
    },
  ];
}

export async function run(): Promise<BenchSection[]> {
  const { code, sourceMap } = await bundleController(GUEST);
  const source = Buffer.from(code).toString("utf8");
  const bare = await newQuickJSWASMModuleFromVariant(import("@jitl/quickjs-wasmfile-release-sync"));
  const engine = await QuickJsEngine.create();
  const guest = engine.load(code);
  const rows = [coldStart(guest, bare, source), await firstInstance(engine, code, bare, source), engineHostCall(guest, bare), idleMemory(guest, bare), ...(await lifecycle(code, sourceMap, bare))];
  return [
    {
      title: "Sandbox: cold start, host calls, lifecycle throughput, idle memory",
      baseline: "bare quickjs-emscripten (the same release-sync WebAssembly build) doing the least the same job needs, in the same run",
      notes: [
        `Guest: bench/guests/sum-controller.ts bundled with the SDK as \`zkguest build\` does (${code.length.toLocaleString("en-US")} bytes, minified; the lifecycle's artifacts carry its source map, ${(sourceMap?.length ?? 0).toLocaleString("en-US")} bytes).`,
        "Cold start and the engine host call run on this thread against the QuickJS engine directly, subject and baseline samples alternating (400 and 31 samples; medians).",
        "A JS guest's first instance on an engine is evaluated and snapshotted (quickjs-snapshot.ts); the cold start is that of every later instance, which restores the snapshot instead of evaluating the bundle again.",
        "Host calls are the time of a witness step with 2,000 extra log calls less one with none, divided by 2,000.",
        "Lifecycle: Host.prove in a loop per program for 1 s, 5 times (median); the baseline does no protocol, proving, disk or thread hop, so the ratio is the cost of all of those together.",
        "Memory is QuickJS's own count (memory_used_size) of the runtime's heap, not the WebAssembly module's pages.",
      ].join(" "),
      rows,
    },
  ];
}
