import { createEVM } from "@ethereumjs/evm";
import { bytesToHex, hexToBytes } from "@ethereumjs/util";
import { createArtifact, Host, programRef, readArtifact, type ProgramRef } from "@zkguest/host-sdk";
import { compileCircuit, decodeProof, Groth16Prover, CIRCUIT_FORMAT, type ProofEnvelope } from "@zkguest/prover-groth16";
import type { Witness } from "@zkguest/protocol";
import { encodeCircuitInput, type SignalInput } from "@zkguest/protocol/wire";
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import solc from "solc";
import { buildArtifact } from "zkguest";

// The Groth16 prover through the whole lifecycle: examples/sum-groth16 built with its circuit,
// set up once (a development ceremony, in a temporary keys directory for this run), proved by
// a guest in the sandbox, verified by zkguest, by snarkjs's own CLI and by the Solidity
// verifier in an EVM, and refused whenever something was tampered with.

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const BIN = path.join(root, "packages/cli/bin/zkguest.js");
const SNARKJS = path.join(root, "node_modules/.bin/snarkjs");
const SUM = path.join(root, "examples/sum-groth16");
const ARGS = { numbers: [3, 5, 8, 13], request: 7 };

function zkguest(args: string[], cwd: string): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: "utf8", maxBuffer: 16 * 2 ** 20 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const input = (signals: Record<string, SignalInput>): Witness[] => [{ type: "data", data: encodeCircuitInput(signals) }];
const envelopeOf = (proof: Uint8Array): ProofEnvelope => JSON.parse(Buffer.from(proof).toString("utf8")) as ProofEnvelope;
const bytesOf = (envelope: unknown): Uint8Array => Buffer.from(JSON.stringify(envelope), "utf8");

describe("groth16 prover: build, setup, prove, verify", function () {
  this.timeout(120_000);
  let dir: string;
  let keysDir: string;
  let artifactFile: string;
  let program: ProgramRef;
  let prover: Groth16Prover;
  let host: Host;
  let programId: string;

  before(async () => {
    dir = fs.mkdtempSync(path.join(tmpdir(), "zkguest-groth16-"));
    keysDir = path.join(dir, "keys");
    const built = await buildArtifact(path.join(SUM, "controller.ts"), "sum", { circuit: path.join(SUM, "circuit.circom") });
    artifactFile = path.join(dir, "sum.zkg");
    fs.writeFileSync(artifactFile, built.bytes);
    program = programRef(built.artifact);
    prover = new Groth16Prover({ keysDir, devMode: true });
    await prover.setup(program);
    host = await Host.create({ dataDir: path.join(dir, "host"), prover, devMode: true, poolSize: 1 });
    programId = await host.deploy(built.bytes);
  });
  after(async () => {
    await host?.close();
    await prover?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("compiles the circuit with its circomlib include and reads its signals: outputs, then public inputs, then private ones", () => {
    const circuit = prover.circuitOf(program);
    expect(circuit.outputs).to.deep.equal([{ name: "sum", dims: [] }]);
    expect(circuit.inputs).to.deep.equal([
      { name: "request", dims: [], public: true },
      { name: "numbers", dims: [4], public: false },
    ]);
    expect(circuit.publicCount).to.equal(2);
    expect(circuit.header.constraints).to.be.greaterThan(4 * 32 - 1);
    expect(program.manifest.circuit?.format).to.equal(CIRCUIT_FORMAT);
  });

  it("makes keys once per circuit: a second setup keeps them, and proving never makes any", async () => {
    const keys = prover.keysOf(program)!;
    expect(keys.record.ceremony).to.equal("dev");
    const before = fs.statSync(keys.paths.zkey).mtimeMs;
    const again = await prover.setup(program);
    expect(again.cached).to.equal(true);
    expect(fs.statSync(keys.paths.zkey).mtimeMs).to.equal(before);
    const empty = new Groth16Prover({ keysDir: path.join(dir, "no-keys") });
    try {
      const proved = await empty.prove(input({ numbers: [1, 2, 3, 4], request: 1 }), program);
      expect(proved._tag === "Left" && proved.left).to.deep.include({ code: "not_found" });
      expect(proved._tag === "Left" && proved.left.message).to.match(/no keys for circuit [0-9a-f]{64} .*zkguest setup/);
    } finally {
      await empty.close();
    }
  });

  it("proves a guest's run: the entrypoint stores the report's proof, and the report shows the public signals and that the keys are insecure", async () => {
    const report = await host.prove(programId, ARGS);
    expect(report.error).to.equal(undefined);
    expect(report.status).to.equal("proved");
    expect(report.proofInfo?.prover).to.equal("groth16");
    expect(report.proofInfo?.publicSignals).to.deep.equal(["29", "7"]);
    expect(report.proofInfo?.insecure).to.match(/^INSECURE keys: made by a local development ceremony/);
    const stored = await host.readFile(programId, "/var/share/proof.bin");
    expect(Buffer.from(stored).equals(Buffer.from(report.proof!))).to.equal(true);
    const envelope = decodeProof(stored);
    expect(envelope).to.deep.include({ program: programId, circuit: program.manifest.circuit!.sha256, ceremony: "dev", vkey: prover.keysOf(program)!.record.vkeySha256 });
    await host.verify(report);
  });

  it("inputs that do not satisfy the circuit fail proving with a typed error naming the constraint; the entrypoint is told", async () => {
    const report = await host.prove(programId, { numbers: [1, 2 ** 32], request: 7 });
    expect(report.status).to.equal("failed");
    expect(report.error?.code).to.equal("guest_error");
    expect(report.error?.message).to.match(/^the circuit input does not satisfy the circuit: the constraint of template Num2Bits\w* at line \d+ fails$/);
    expect(report.proof).to.equal(undefined);
    const told = report.logs.find((l) => l.phase === "entrypoint" && l.message === "proving failed");
    expect(told?.fields).to.deep.equal({ code: "guest_error", message: report.error!.message });
  });

  it("checks every input signal before snarkjs sees it: missing, extra, wrong shape, outside the field, not a circuit input", async () => {
    const p = "21888242871839275222246405745257275088548364400416034343698204186575808495617";
    const cases: [Witness[], RegExp][] = [
      [input({ numbers: [1, 2, 3, 4] }), /signal request is missing \(the circuit's inputs: request, numbers\[4\]\)/],
      [input({ numbers: [1, 2, 3, 4], request: 1, salt: 9 }), /signal salt is not an input of the circuit/],
      [input({ numbers: [1, 2, 3], request: 1 }), /signal numbers: expected an array of 4, got an array of 3/],
      [input({ numbers: [1, 2, 3, [4]], request: 1 }), /signal numbers\[3\]: expected a field element, got an array/],
      [input({ numbers: [1, 2, 3, 4], request: p }), /signal request: 2188\d+ is outside BN254's scalar field/],
      [[{ type: "data", data: new TextEncoder().encode('{"numbers":[1,2,3,4]}') }], /the witness is not a circuit input/],
      [[...input({ numbers: [1, 2, 3, 4], request: 1 }), ...input({ numbers: [1, 2, 3, 4], request: 1 })], /proves one witness, the circuit input .*got 2/],
    ];
    for (const [witnesses, message] of cases) {
      const proved = await prover.prove(witnesses, program);
      expect(proved._tag, String(message)).to.equal("Left");
      if (proved._tag === "Left") {
        expect(proved.left.code, String(message)).to.equal("malformed_frame");
        expect(proved.left.message).to.match(message);
      }
    }
  });

  it("verification refuses a tampered proof, tampered public signals, another program's label and another circuit's key", async () => {
    const proved = await prover.prove(input({ numbers: [3, 5, 8, 13], request: 7 }), program);
    if (proved._tag === "Left") throw new Error(proved.left.message);
    const good = envelopeOf(proved.right);
    expect((await prover.verify(proved.right, program))._tag).to.equal("Right");
    const refused = async (proof: Uint8Array, target: ProgramRef, rule: RegExp, by = prover) => {
      const verdict = await by.verify(proof, target);
      expect(verdict._tag, String(rule)).to.equal("Left");
      if (verdict._tag === "Left") {
        expect(verdict.left.code, verdict.left.message).to.equal("invalid_state");
        expect(verdict.left.message).to.match(rule);
      }
    };
    const pairing = /the pairing check fails/;
    const point = structuredClone(good);
    point.proof.pi_c = structuredClone(good.proof.pi_a);
    await refused(bytesOf(point), program, pairing);
    const offCurve = structuredClone(good);
    offCurve.proof.pi_a[0] = String(BigInt(good.proof.pi_a[0]) + 1n);
    await refused(bytesOf(offCurve), program, /pairing check fails|not valid points/);
    const signals = structuredClone(good);
    signals.publicSignals[0] = "30";
    await refused(bytesOf(signals), program, pairing);
    const shorter = structuredClone(good);
    shorter.publicSignals.pop();
    await refused(bytesOf(shorter), program, /it has 1 public signals, the circuit has 2/);
    // The same circuit under other code is another program: the proof's label names the first.
    const sibling = programRef(readArtifact(createArtifact({ name: "sibling", engine: "js", code: new TextEncoder().encode("other"), protocol: program.manifest.protocol, circuit: { format: CIRCUIT_FORMAT, bytes: program.circuit! } }).bytes));
    await refused(proved.right, sibling, /labelled for program [0-9a-f]{64}, not [0-9a-f]{64}/);
    // Another circuit (31-bit numbers) with its own keys: the proof is not for it, even relabelled.
    const variantFile = path.join(dir, "variant.circom");
    fs.writeFileSync(variantFile, fs.readFileSync(path.join(SUM, "circuit.circom"), "utf8").replace("Num2Bits(32)", "Num2Bits(31)"));
    const variant = await compileCircuit(variantFile);
    const other = programRef(readArtifact(createArtifact({ name: "other", engine: "js", code: new TextEncoder().encode("other"), protocol: program.manifest.protocol, circuit: { format: CIRCUIT_FORMAT, bytes: variant.bytes } }).bytes));
    const otherKeys = (await prover.setup(other)).keys;
    await refused(proved.right, other, /labelled for program/);
    await refused(bytesOf({ ...good, program: other.id }), other, /it is for circuit [0-9a-f]{64}, the program's circuit is/);
    await refused(bytesOf({ ...good, program: other.id, circuit: otherKeys.record.circuit }), other, /made with verification key/);
    await refused(bytesOf({ ...good, program: other.id, circuit: otherKeys.record.circuit, vkey: otherKeys.record.vkeySha256 }), other, pairing);
    // Outside dev mode, keys from a development ceremony are refused.
    const strict = new Groth16Prover({ keysDir });
    try {
      await refused(proved.right, program, /INSECURE keys: .* accepted only in dev mode/, strict);
    } finally {
      await strict.close();
    }
    const malformed = await prover.verify(new TextEncoder().encode("{"), program);
    expect(malformed._tag === "Left" && malformed.left.code).to.equal("malformed_frame");
  });

  it("a program without a circuit: the groth16 prover refuses it with invalid_state; the dev prover still proves it", async () => {
    const hello = await buildArtifact(path.join(root, "examples/hello-js/controller.ts"), "hello");
    const id = await host.deploy(hello.bytes);
    const report = await host.prove(id, { numbers: [1, 2] });
    expect(report.error?.code).to.equal("invalid_state");
    expect(report.error?.message).to.match(/has no circuit: build it with `zkguest build CONTROLLER --circuit FILE.circom`/);
    const dev = await Host.create({ devMode: true, poolSize: 1 });
    try {
      const devReport = await dev.prove(await dev.deploy(hello.bytes), { numbers: [1, 2] });
      expect(devReport.status).to.equal("proved");
      expect(devReport.proofInfo).to.deep.equal({ prover: "dev", insecure: "dev prover: not a real proof" });
    } finally {
      await dev.close();
    }
  });

  it("zkguest run --prover groth16 --out: snarkjs's own CLI accepts the files, and the proof the guest stored is the same proof", () => {
    const out = path.join(dir, "out");
    const image = path.join(dir, "disk.img");
    const run = zkguest(["run", artifactFile, "--prover", "groth16", "--keys", keysDir, "--args", JSON.stringify(ARGS), "--image", image, "--out", out], dir);
    expect(run.stderr).to.equal("");
    expect(run.status).to.equal(0);
    expect(run.stdout).to.match(/\n {2}proof +\d+ bytes, groth16 \(INSECURE keys: /);
    expect(run.stdout).to.include('\n  public     ["29","7"]\n');
    const verify = (publicFile: string) => spawnSync(SNARKJS, ["groth16", "verify", path.join(out, "verification_key.json"), publicFile, path.join(out, "proof.json")], { encoding: "utf8" });
    const accepted = verify(path.join(out, "public.json"));
    expect(accepted.status, accepted.stdout + accepted.stderr).to.equal(0);
    expect(accepted.stdout).to.match(/OK!/);
    // The independent verifier is not a rubber stamp: another sum is refused.
    fs.writeFileSync(path.join(dir, "forged.json"), JSON.stringify(["30", "7"]));
    const forged = verify(path.join(dir, "forged.json"));
    expect(forged.status).to.not.equal(0);
    expect(forged.stdout).to.match(/Invalid proof/);
    const cat = spawnSync(process.execPath, [BIN, "fs", "cat", image, "/var/share/proof.bin"]);
    expect(cat.status).to.equal(0);
    const stored = decodeProof(cat.stdout);
    expect(stored.proof).to.deep.equal(JSON.parse(fs.readFileSync(path.join(out, "proof.json"), "utf8")));
    expect(stored.publicSignals).to.deep.equal(JSON.parse(fs.readFileSync(path.join(out, "public.json"), "utf8")));
    fs.writeFileSync(path.join(dir, "proof.bin"), cat.stdout);
  });

  it("zkguest verify: exit 0 for the proof (with the insecure keys named), one line and exit 1 for a tampered one or without --dev", () => {
    const proofFile = path.join(dir, "proof.bin");
    const ok = zkguest(["verify", artifactFile, proofFile, "--keys", keysDir, "--dev"], dir);
    expect(ok.stderr).to.equal("");
    expect(ok.status).to.equal(0);
    expect(ok.stdout).to.match(/^verified: groth16 proof for program [0-9a-f]{64}, public signals \["29","7"\]\nWARNING: INSECURE keys: /);
    const strict = zkguest(["verify", artifactFile, proofFile, "--keys", keysDir], dir);
    expect(strict.status).to.equal(1);
    expect(strict.stderr).to.match(/^zkguest: invalid_state: groth16 proof refused: INSECURE keys: .*accepted only in dev mode\n$/);
    const tampered = envelopeOf(fs.readFileSync(proofFile));
    tampered.publicSignals[0] = "30";
    fs.writeFileSync(path.join(dir, "tampered.bin"), bytesOf(tampered));
    const refused = zkguest(["verify", artifactFile, path.join(dir, "tampered.bin"), "--keys", keysDir, "--dev"], dir);
    expect(refused.status).to.equal(1);
    expect(refused.stdout).to.equal("");
    expect(refused.stderr).to.match(/^zkguest: invalid_state: groth16 proof refused: the pairing check fails: .*\n$/);
  });

  it("zkguest setup says the keys are kept; build --circuit reports a broken circuit one line per problem", () => {
    const setup = zkguest(["setup", artifactFile, "--keys", keysDir], dir);
    expect(setup.status, setup.stderr).to.equal(0);
    expect(setup.stdout).to.match(/^keys for circuit [0-9a-f]{64} of 'sum': already made \(kept; nothing was done\)\n {2}ceremony +development, 2\^8 \(INSECURE keys: /);
    fs.writeFileSync(path.join(dir, "broken.circom"), "pragma circom 2.1.0;\ntemplate A() {\n  signal input a;\n  signal output b;\n  b <== a * ;\n}\ncomponent main = A();\n");
    fs.writeFileSync(path.join(dir, "missing.circom"), 'pragma circom 2.1.0;\ninclude "nowhere/x.circom";\ntemplate A() { signal input a; signal output b; b <== a * a; }\ncomponent main = A();\n');
    const controller = path.join(SUM, "controller.ts");
    const broken = zkguest(["build", controller, "--circuit", "broken.circom", "-o", "broken.zkg"], dir);
    expect(broken.status).to.equal(1);
    expect(broken.stderr).to.equal("zkguest: build: broken.circom:5:3: error[P1012]: illegal expression\n");
    const missing = zkguest(["build", controller, "--circuit", "missing.circom", "-o", "missing.zkg"], dir);
    expect(missing.status).to.equal(1);
    expect(missing.stderr).to.match(/^zkguest: build: error\[P1014\]: The file nowhere\/x.circom to be included has not been found \(Consider using compilation option -l to indicate include paths\)\n$/);
    expect(fs.existsSync(path.join(dir, "broken.zkg")) || fs.existsSync(path.join(dir, "missing.zkg"))).to.equal(false);
  });

  it("zkguest export-verifier: solc compiles the contract, and in an EVM it accepts the guest's proof and refuses a tampered one", async () => {
    const sol = path.join(dir, "Verifier.sol");
    const exported = zkguest(["export-verifier", artifactFile, "-o", sol, "--keys", keysDir], dir);
    expect(exported.status, exported.stderr).to.equal(0);
    const compiled = JSON.parse(
      solc.compile(JSON.stringify({ language: "Solidity", sources: { "Verifier.sol": { content: fs.readFileSync(sol, "utf8") } }, settings: { outputSelection: { "*": { "*": ["evm.bytecode.object", "evm.methodIdentifiers"] } } } })),
    ) as { errors?: { severity: string; formattedMessage: string }[]; contracts: Record<string, Record<string, { evm: { bytecode: { object: string }; methodIdentifiers: Record<string, string> } }>> };
    expect((compiled.errors ?? []).filter((e) => e.severity === "error").map((e) => e.formattedMessage)).to.deep.equal([]);
    const contract = Object.values(compiled.contracts["Verifier.sol"]!)[0]!;
    const selector = contract.evm.methodIdentifiers["verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[2])"];
    expect(selector).to.match(/^[0-9a-f]{8}$/);
    const evm = await createEVM();
    const deployed = await evm.runCall({ data: hexToBytes(`0x${contract.evm.bytecode.object}`), gasLimit: 10_000_000n });
    expect(deployed.execResult.exceptionError).to.equal(undefined);
    const call = async (envelope: ProofEnvelope) => {
      // verifyProof(a, b, c, publicSignals): every argument is static, so the calldata is the selector and 32-byte words; b's coordinates go imaginary part first.
      const { pi_a: a, pi_b: b, pi_c: c } = envelope.proof;
      const words = [a[0], a[1], b[0][1], b[0][0], b[1][1], b[1][0], c[0], c[1], ...envelope.publicSignals].map((x) => BigInt(x).toString(16).padStart(64, "0"));
      const result = await evm.runCall({ to: deployed.createdAddress!, data: hexToBytes(`0x${selector}${words.join("")}`), gasLimit: 10_000_000n });
      expect(result.execResult.exceptionError).to.equal(undefined);
      return BigInt(bytesToHex(result.execResult.returnValue));
    };
    const proof = envelopeOf(fs.readFileSync(path.join(dir, "proof.bin")));
    expect(await call(proof)).to.equal(1n);
    const tampered = structuredClone(proof);
    tampered.publicSignals[0] = "30";
    expect(await call(tampered)).to.equal(0n);
  });
});
