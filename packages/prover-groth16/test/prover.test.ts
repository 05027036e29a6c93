import { encode as encodeMsgpack } from "@msgpack/msgpack";
import { createArtifact, programRef, readArtifact } from "@zkguest/host-sdk";
import { ZkguestError } from "@zkguest/protocol";
import { encodeCircuitInput } from "@zkguest/protocol/wire";
import { expect } from "chai";
import fs from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { CIRCUIT_FORMAT, decodeCircuit, encodeCircuit } from "../src/circuit.js";
import { compileCircuit, type CompiledCircuit } from "../src/compile.js";
import { decodeProof, PROOF_FORMAT } from "../src/proof.js";
import { Groth16Prover } from "../src/prover.js";
import { readR1csHeader } from "../src/r1cs.js";

// The prover's own checks on what it reads from artifacts and proofs (untrusted), and its time
// limit on a witness generator that does not stop. The lifecycle, CLI, snarkjs and EVM checks
// are in test/groth16.test.ts.

/** A circuit whose witness generator loops `n` times before it answers. */
const SPIN = `pragma circom 2.1.0;
template Spin() {
    signal input n;
    signal output out;
    var acc = 0;
    var i = 0;
    while (i < n) { acc += 1; i += 1; }
    out <-- acc;
    signal square;
    square <== n * n;
}
component main = Spin();
`;

function error(body: () => unknown): ZkguestError {
  try {
    body();
  } catch (e) {
    if (e instanceof ZkguestError) return e;
    throw e;
  }
  throw new Error("expected a ZkguestError");
}

describe("groth16 prover: untrusted circuits and proofs", function () {
  this.timeout(60_000);
  let dir: string;
  let spin: CompiledCircuit;
  before(async () => {
    dir = fs.mkdtempSync(path.join(tmpdir(), "zkguest-prover-"));
    fs.writeFileSync(path.join(dir, "spin.circom"), SPIN);
    spin = await compileCircuit(path.join(dir, "spin.circom"));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("reads a circuit's r1cs header and refuses one over another field or cut short", () => {
    const header = readR1csHeader(spin.circuit.r1cs);
    expect(header).to.deep.include({ outputs: 1, publicInputs: 0, privateInputs: 1 });
    // Flip a bit of the prime: the header section's data starts with n8 (u32), then the prime.
    const otherField = new Uint8Array(spin.circuit.r1cs);
    const view = new DataView(otherField.buffer);
    let at = 12;
    while (view.getUint32(at, true) !== 1) at += 12 + Number(view.getBigUint64(at + 4, true));
    otherField[at + 12 + 4] ^= 1;
    expect(error(() => readR1csHeader(otherField)).message).to.match(/not over BN254's scalar field/);
    expect(error(() => readR1csHeader(spin.circuit.r1cs.subarray(0, 20))).message).to.match(/ends at byte 20/);
    expect(error(() => readR1csHeader(new TextEncoder().encode("r1cx"))).message).to.match(/ends at byte 4|no 'r1cs' magic/);
  });

  it("refuses a circuit whose signals disagree with its r1cs, or that is not one", () => {
    const c = spin.circuit;
    const base = { format: c.format, compiler: c.compiler, main: c.main, inputs: c.inputs, outputs: c.outputs, r1cs: c.r1cs, wasm: c.wasm };
    expect(decodeCircuit(encodeCircuit(base)).publicCount).to.equal(1);
    expect(error(() => decodeCircuit(encodeCircuit({ ...base, inputs: [{ name: "n", dims: [2], public: false }] }))).message).to.match(/it lists 2 private input scalars, its r1cs has 1/);
    expect(error(() => decodeCircuit(encodeCircuit({ ...base, inputs: [{ name: "n", dims: [], public: true }] }))).message).to.match(/public input scalars/);
    expect(error(() => decodeCircuit(encodeCircuit({ ...base, inputs: [{ name: "__proto__", dims: [], public: false }] }))).message).to.match(/not a signal name/);
    expect(error(() => decodeCircuit(encodeCircuit({ ...base, outputs: [{ name: "n", dims: [] }] }))).message).to.match(/signal n is listed twice/);
    expect(error(() => decodeCircuit(encodeCircuit({ ...base, wasm: new Uint8Array([1, 2, 3, 4]) }))).message).to.match(/not a WebAssembly module/);
    expect(error(() => decodeCircuit(encodeMsgpack({ ...base, format: "zkguest-circom/9" }))).message).to.match(/format "zkguest-circom\/9"/);
    expect(error(() => decodeCircuit(encodeMsgpack({ ...base, r1cs: "text" }))).message).to.match(/r1cs is missing or of the wrong type/);
  });

  it("refuses a proof envelope that is not one, naming the field", () => {
    const good = {
      format: PROOF_FORMAT,
      program: "a".repeat(64),
      circuit: "b".repeat(64),
      vkey: "c".repeat(64),
      ceremony: "dev",
      proof: { pi_a: ["1", "2", "1"], pi_b: [["1", "2"], ["3", "4"], ["1", "0"]], pi_c: ["1", "2", "1"], protocol: "groth16", curve: "bn128" },
      publicSignals: ["29", "7"],
    };
    const bytes = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
    expect(decodeProof(bytes(good)).publicSignals).to.deep.equal(["29", "7"]);
    expect(error(() => decodeProof(bytes({ ...good, publicSignals: ["-1"] }))).message).to.match(/publicSignals.0 is missing or of the wrong type/);
    expect(error(() => decodeProof(bytes({ ...good, proof: { ...good.proof, pi_a: ["1", "2"] } }))).message).to.match(/proof.pi_a/);
    expect(error(() => decodeProof(bytes({ ...good, proof: { ...good.proof, curve: "bls12381" } }))).message).to.match(/proof.curve/);
    expect(error(() => decodeProof(bytes({ ...good, program: "x" }))).message).to.match(/program is missing/);
    expect(error(() => decodeProof(new Uint8Array(2 * 1024 * 1024))).message).to.match(/the limit is 1048576/);
    expect(error(() => decodeProof(new TextEncoder().encode("{"))).code).to.equal("malformed_frame");
  });

  it("stops a witness generator that runs past the time limit (limit_exceeded), and proves the next request", async () => {
    const program = programRef(
      readArtifact(createArtifact({ name: "spin", engine: "js", code: new TextEncoder().encode("spin"), protocol: { min: [1, 0], max: [1, 0] }, circuit: { format: CIRCUIT_FORMAT, bytes: spin.bytes } }).bytes),
    );
    const prover = new Groth16Prover({ keysDir: path.join(dir, "keys"), devMode: true, timeoutMs: 3_000 });
    try {
      await prover.setup(program);
      const started = performance.now();
      const stuck = await prover.prove([{ type: "data", data: encodeCircuitInput({ n: "1000000000000000" }) }], program);
      expect(stuck._tag === "Left" && stuck.left).to.deep.equal({ code: "limit_exceeded", message: "prove took more than 3000 ms (the time limit); it was stopped" });
      expect(performance.now() - started).to.be.lessThan(10_000);
      const next = await prover.prove([{ type: "data", data: encodeCircuitInput({ n: 3 }) }], program);
      expect(next._tag).to.equal("Right");
      if (next._tag === "Right") expect(prover.describe(next.right)?.publicSignals).to.deep.equal(["3"]);
    } finally {
      await prover.close();
    }
  });
});
