/// <reference path="../packages/prover-groth16/src/vendor.d.ts" />
import { Host, programRef, type ProgramRef } from "@zkguest/host-sdk";
import { compileCircuit, Groth16Prover, CIRCUIT_FORMAT } from "@zkguest/prover-groth16";
import { encodeCircuitInput } from "@zkguest/protocol/wire";
import fs from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import * as snarkjs from "snarkjs";
import { buildArtifact } from "zkguest";
import { median, type BenchSection } from "./harness.js";

// The Groth16 prover: zkguest's whole lifecycle against snarkjs's own fullProve + verify of the
// same circuit and inputs; how long the host's event loop stalls during proofs; setup time, key
// sizes and verification time by circuit size.

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const SUM = path.join(root, "examples/sum-groth16");
const ARGS = { numbers: [3, 5, 8, 13], request: 7 };
const ROUNDS = 15;

const ms = (since: number) => performance.now() - since;

/** Max event-loop delay (ms) while `body` runs, sampled every millisecond. */
async function loopDelay(body: () => Promise<void>): Promise<number> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  await body();
  h.disable();
  return h.max / 1e6;
}

export async function run(): Promise<BenchSection[]> {
  const dir = fs.mkdtempSync(path.join(tmpdir(), "zkguest-bench-groth16-"));
  const prover = new Groth16Prover({ keysDir: path.join(dir, "keys"), devMode: true });
  const host = await Host.create({ dataDir: path.join(dir, "host"), prover, devMode: true, poolSize: 1 });
  try {
    const built = await buildArtifact(path.join(SUM, "controller.ts"), "sum", { circuit: path.join(SUM, "circuit.circom") });
    const program = programRef(built.artifact);
    const keys = (await prover.setup(program)).keys;
    const id = await host.deploy(built.bytes);
    const circuit = prover.circuitOf(program);
    const input = { numbers: [3, 5, 8, 13], request: 7 };
    const zkey = fs.readFileSync(keys.paths.zkey);

    const lifecycle = async () => {
      const report = await host.prove(id, ARGS);
      if (report.status !== "proved") throw new Error(`bench: the run failed: ${report.error?.message}`);
      await host.verify(report);
    };
    const snark = async () => {
      const { proof, publicSignals } = await snarkjs.groth16.fullProve(input, circuit.wasm, { type: "mem", data: zkey });
      if (!(await snarkjs.groth16.verify(keys.vkey, publicSignals, proof))) throw new Error("bench: snarkjs did not verify its own proof");
    };
    // Warm both (the snarkjs process and curve, the sandbox's snapshot; snarkjs's curve in this process).
    await lifecycle();
    await snark();
    const ours: number[] = [];
    const theirs: number[] = [];
    const ourDelay: number[] = [];
    const theirDelay: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      let t = performance.now();
      ourDelay.push(await loopDelay(lifecycle));
      ours.push(ms(t));
      t = performance.now();
      theirDelay.push(await loopDelay(snark));
      theirs.push(ms(t));
    }
    const overhead = median(ours) / median(theirs);

    // Verification alone: a report's proof through Host.verify (the prover's process, the witnesses' public signals included) and without witnesses, against snarkjs.verify here.
    const report = await host.prove(id, ARGS);
    const envelope = JSON.parse(Buffer.from(report.proof!).toString("utf8")) as { proof: snarkjs.Groth16Proof; publicSignals: string[] };
    const verifyOurs: number[] = [];
    const verifyTheirs: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      let t = performance.now();
      const verdict = await prover.verify(report.proof!, program);
      if (verdict._tag === "Left") throw new Error(verdict.left.message);
      verifyOurs.push(ms(t));
      t = performance.now();
      await snarkjs.groth16.verify(keys.vkey, envelope.publicSignals, envelope.proof);
      verifyTheirs.push(ms(t));
    }

    const sizes = await setupBySize(dir);
    const lifecycleSection: BenchSection = {
      title: "Groth16 prover: the whole lifecycle against snarkjs's own fullProve + verify",
      baseline: "snarkjs.groth16.fullProve + snarkjs.groth16.verify of the same circuit (examples/sum-groth16, 133 constraints), inputs and keys, in the bench's own process",
      notes:
        `Subject: Host.prove (witness step in the sandbox, the circuit input checked, proving in the prover's snarkjs process, the entrypoint storing the proof on its FAT-16 disk) + Host.verify (with the witnesses' public signals recomputed). ` +
        `Median of ${ROUNDS} rounds, subject and baseline alternating, after one warm-up each. Event-loop delay: the longest stall of this process's event loop during one round (monitorEventLoopDelay, 1 ms resolution), median over the rounds: snarkjs in-process stalls it; the prover's child process does not.`,
      rows: [
        { name: "lifecycle (prove + verify)", value: median(ours), unit: "ms", baselineName: "snarkjs fullProve + verify", baselineValue: median(theirs), higherIsBetter: false, goal: `overhead <= 10% (here ${((overhead - 1) * 100).toFixed(0)}%)`, goalMet: overhead <= 1.1 },
        { name: "event-loop stall during a round", value: median(ourDelay), unit: "ms", baselineName: "snarkjs in-process", baselineValue: median(theirDelay), higherIsBetter: false, goal: "a few ms", goalMet: median(ourDelay) <= 5 },
        { name: "verify (no witnesses)", value: median(verifyOurs), unit: "ms", baselineName: "snarkjs.groth16.verify", baselineValue: median(verifyTheirs), higherIsBetter: false, goal: "<= 50 ms", goalMet: median(verifyOurs) <= 50 },
      ],
    };
    return [lifecycleSection, sizes];
  } finally {
    await host.close();
    await prover.close();
    // snarkjs keeps the curve of this process's baseline, with its worker threads, in a global for
    // later calls: left running, they keep the bench's process alive after its last suite.
    await (globalThis as { curve_bn128?: { terminate(): Promise<void> } }).curve_bn128?.terminate();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Setup (a development ceremony from nothing: phase 1 and phase 2), key sizes and one verification, for Sum(N) circuits of growing N. */
async function setupBySize(dir: string): Promise<BenchSection> {
  const rows: BenchSection["rows"][number][] = [];
  const source = fs.readFileSync(path.join(SUM, "circuit.circom"), "utf8");
  for (const n of [4, 16, 32]) {
    const file = path.join(dir, `sum${n}.circom`);
    fs.writeFileSync(file, source.replace("Sum(4)", `Sum(${n})`));
    const compiled = await compileCircuit(file, { libraries: [path.join(root, "node_modules")] });
    const { createArtifact, readArtifact } = await import("@zkguest/host-sdk");
    const program: ProgramRef = programRef(readArtifact(createArtifact({ name: `sum${n}`, engine: "js", code: new TextEncoder().encode(`sum${n}`), protocol: { min: [1, 0], max: [1, 0] }, circuit: { format: CIRCUIT_FORMAT, bytes: compiled.bytes } }).bytes));
    const prover = new Groth16Prover({ keysDir: path.join(dir, `keys-${n}`), devMode: true });
    try {
      const started = performance.now();
      const { keys } = await prover.setup(program);
      const setupMs = ms(started);
      const label = `Sum(${n}): ${keys.record.constraints} constraints, 2^${keys.record.power}`;
      const proved = await prover.prove([{ type: "data", data: encodeCircuitInput({ numbers: Array.from({ length: n }, (_, i) => i), request: 1 }) }], program);
      if (proved._tag === "Left") throw new Error(proved.left.message);
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t = performance.now();
        await prover.verify(proved.right, program);
        times.push(ms(t));
      }
      rows.push(
        { name: `${label}: setup (dev ceremony)`, value: setupMs / 1000, unit: "s", higherIsBetter: false },
        { name: `${label}: proving key`, value: fs.statSync(keys.paths.zkey).size / 1024, unit: "KiB", higherIsBetter: false },
        { name: `${label}: verification key`, value: fs.statSync(keys.paths.vkey).size / 1024, unit: "KiB", higherIsBetter: false },
        { name: `${label}: verify`, value: median(times), unit: "ms", higherIsBetter: false, goal: "<= 50 ms", goalMet: median(times) <= 50 },
      );
    } finally {
      await prover.close();
    }
  }
  return {
    title: "Groth16 prover: setup, key sizes and verification by circuit size",
    baseline: "none (absolute numbers); the circuit is examples/sum-groth16 with N numbers",
    notes: "Setup is `zkguest setup` without --ptau: a development powers of tau of the circuit's size (new, one contribution, prepared for phase 2), then the circuit's zkey and one contribution. Verify: the prover's verify without witnesses (labels, public signals, pairing), median of 5.",
    rows,
  };
}
