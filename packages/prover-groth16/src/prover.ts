import type { ProgramRef, ProofInfo, Prover } from "@zkguest/host-sdk";
import { failure, ZkguestError, type Failure, type Witness } from "@zkguest/protocol";
import { either as E } from "fp-ts";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import type { Groth16Proof } from "snarkjs";
import { CIRCUIT_FORMAT, decodeCircuit, type CheckedCircuit } from "./circuit.js";
import { inField } from "./field.js";
import { checkedCircuitInput } from "./input.js";
import { KeyStore, sha256Hex, type CircuitKeys } from "./keys.js";
import { decodeProof, encodeProof, type ProofEnvelope } from "./proof.js";
import { SnarkProcess } from "./snark-process.js";

export interface Groth16ProverOptions {
  /** Where the keys live, one directory per circuit (see KeyStore); `setup` makes them. */
  readonly keysDir: string;
  /**
   * Whether proofs under keys from a development ceremony verify (default false: such keys
   * are insecure, and a verifier outside development refuses them, as DevProver's proofs).
   */
  readonly devMode?: boolean;
  /** Time limit of one proof (witness generation and proving) in ms (default 60,000). */
  readonly timeoutMs?: number;
}

export interface SetupOptions {
  /** An operator's powers-of-tau file, prepared for phase 2 (e.g. a `*_final_NN.ptau`); without one, a development ceremony. */
  readonly ptau?: string;
}

export interface SetupResult {
  readonly keys: CircuitKeys;
  /** Whether the keys were already there (nothing was made). */
  readonly cached: boolean;
  readonly ms: number;
}

/** Why keys from a development ceremony must not be trusted: said wherever they show. */
export const DEV_CEREMONY_WARNING = "INSECURE keys: made by a local development ceremony (zkguest setup without --ptau); for production, set up with an operator's powers-of-tau file";

/** The largest development ceremony (2^20 points): beyond it, bring a powers-of-tau file. */
export const MAX_DEV_POWER = 20;

const require = createRequire(import.meta.url);

/** Proved inputs whose public signals a prover remembers (see provedSignals). */
const MAX_REMEMBERED_SIGNALS = 1024;

/** The key of an input's public signals: the program, and the input as checked (decimal strings in the circuit's signal order). */
function signalsKey(program: ProgramRef, input: unknown): string {
  return `${program.id}:${sha256Hex(new TextEncoder().encode(JSON.stringify(input)))}`;
}

/**
 * A Groth16 prover over BN254 (snarkjs) for programs that carry a circom circuit
 * (`zkguest build --circuit`). The guest's witness is its circuit input (`circuitInput(...)`
 * from the guest SDK): checked against the circuit's input signals, then given to the
 * circuit's witness generator and to snarkjs, in a process of its own. The proof is a JSON
 * envelope (proof.ts) holding snarkjs's proof and public signals.
 *
 * Keys are made once per circuit by `setup` (with an operator's powers of tau, or an insecure
 * development ceremony) and read from `keysDir`; a program whose circuit has no keys fails
 * proving with not_found. Call `close()` when done (an idle prover does not keep the process
 * alive either way).
 */
export class Groth16Prover implements Prover {
  readonly name = "groth16";
  readonly keys: KeyStore;
  private readonly snark = new SnarkProcess();
  private readonly circuits = new Map<string, CheckedCircuit>();
  private readonly devMode: boolean;
  private readonly timeoutMs: number;
  /**
   * The public signals of the inputs this prover proved lately (by program and input): a
   * report's proof is usually verified right after it was made (Host.verify), and computing
   * them again runs the circuit's witness generator, most of a verification's time.
   */
  private readonly provedSignals = new Map<string, readonly string[]>();

  constructor(options: Groth16ProverOptions) {
    this.keys = new KeyStore(path.resolve(options.keysDir));
    this.devMode = options.devMode ?? false;
    this.timeoutMs = options.timeoutMs ?? 60_000;
  }

  async prove(witnesses: readonly Witness[], program: ProgramRef): Promise<E.Either<Failure, Uint8Array>> {
    return attempt(async () => {
      const circuit = this.circuitOf(program);
      const keys = this.requireKeys(program);
      const input = checkedCircuitInput(witnesses, circuit);
      const { proof, publicSignals } = await this.snark.run<{ proof: Groth16Proof; publicSignals: string[] }>(
        { op: "prove", zkey: keys.paths.zkey, zkeyVersion: keys.version, wasm: circuit.wasm, input },
        this.timeoutMs,
      );
      this.rememberSignals(program, input, publicSignals);
      return encodeProof({ program: program.id, circuit: keys.record.circuit, vkey: keys.record.vkeySha256, ceremony: keys.record.ceremony, proof, publicSignals });
    });
  }

  /**
   * Checks a proof against the program's verification key: its labels (program, circuit, key,
   * ceremony), its public signals (as many as the circuit has, each in the field; with
   * `witnesses`, the ones they give), then the pairing. Left (invalid_state) naming why not.
   */
  async verify(proof: Uint8Array, program: ProgramRef, witnesses?: readonly Witness[]): Promise<E.Either<Failure, void>> {
    return attempt(async () => {
      const envelope = decodeProof(proof);
      const circuit = this.circuitOf(program);
      const keys = this.requireKeys(program);
      const refuse = (why: string) => new ZkguestError("invalid_state", `groth16 proof refused: ${why}`);
      if (envelope.program !== program.id) throw refuse(`it is labelled for program ${envelope.program}, not ${program.id}`);
      if (envelope.circuit !== keys.record.circuit) throw refuse(`it is for circuit ${envelope.circuit}, the program's circuit is ${keys.record.circuit}`);
      if (envelope.vkey !== keys.record.vkeySha256) throw refuse(`it was made with verification key ${envelope.vkey}, the program's key is ${keys.record.vkeySha256}`);
      if (keys.record.ceremony === "dev" && !this.devMode) throw refuse(`${DEV_CEREMONY_WARNING}; they are accepted only in dev mode`);
      if (envelope.ceremony !== keys.record.ceremony) throw refuse(`it says its keys come from a '${envelope.ceremony}' ceremony, they come from '${keys.record.ceremony}'`);
      checkPublicSignals(envelope, circuit, refuse);
      if (witnesses !== undefined) {
        const input = checkedCircuitInput(witnesses, circuit);
        const expected =
          this.provedSignals.get(signalsKey(program, input)) ??
          (await this.snark.run<string[]>({ op: "publicSignals", wasm: circuit.wasm, input, count: circuit.publicCount }, this.timeoutMs));
        if (expected.some((s, i) => s !== envelope.publicSignals[i])) throw refuse(`its public signals are not the ones these witnesses give (${JSON.stringify(expected)})`);
      }
      const valid = await this.snark.run<boolean>({ op: "verify", vkey: keys.vkey, publicSignals: envelope.publicSignals, proof: envelope.proof }, this.timeoutMs);
      if (!valid) throw refuse("the pairing check fails: the proof does not verify against the verification key and these public signals");
    });
  }

  private rememberSignals(program: ProgramRef, input: unknown, publicSignals: readonly string[]): void {
    if (this.provedSignals.size >= MAX_REMEMBERED_SIGNALS) this.provedSignals.delete(this.provedSignals.keys().next().value!);
    this.provedSignals.set(signalsKey(program, input), publicSignals);
  }

  describe(proof: Uint8Array): ProofInfo | undefined {
    try {
      const { publicSignals, ceremony } = decodeProof(proof);
      return { prover: this.name, publicSignals, ...(ceremony === "dev" ? { insecure: DEV_CEREMONY_WARNING } : {}) };
    } catch {
      return undefined;
    }
  }

  /**
   * Makes the proving and verification keys of the program's circuit, unless it has them: with
   * `ptau`, phase 1 comes from that powers-of-tau file (keys made without one, or from another
   * file, are replaced); without, from a development ceremony of the circuit's size (insecure;
   * existing keys are kept). Phase 2 is one contribution of fresh randomness from this machine.
   */
  async setup(program: ProgramRef, options: SetupOptions = {}): Promise<SetupResult> {
    const started = performance.now();
    const circuit = this.circuitOf(program);
    const circuitSha = program.manifest.circuit!.sha256;
    const existing = this.keys.load(circuitSha);
    const ptau = options.ptau === undefined ? undefined : await ptauRef(options.ptau);
    const power = Math.max(1, Math.floor(Math.log2(circuit.header.constraints + circuit.publicCount)) + 1);
    if (existing !== undefined && (ptau === undefined || existing.record.ptau?.sha256 === ptau.sha256)) {
      return { keys: existing, cached: true, ms: performance.now() - started };
    }
    if (ptau !== undefined && ptau.power < power) {
      throw new ZkguestError("invalid_state", `${options.ptau}: a powers of tau of 2^${ptau.power}, the circuit needs 2^${power} (${circuit.header.constraints} constraints, ${circuit.publicCount} public signals)`);
    }
    if (ptau === undefined && power > MAX_DEV_POWER) {
      throw new ZkguestError("limit_exceeded", `the circuit needs a ceremony of 2^${power}; development ceremonies go up to 2^${MAX_DEV_POWER}: set up with --ptau FILE`);
    }
    const devPtau = this.keys.devPtauPath(power);
    const made = await this.snark.run<{ zkey: Uint8Array; vkey: Record<string, unknown> }>(
      { op: "setup", r1cs: circuit.r1cs, power, devPtau, devPtauDir: path.dirname(devPtau), ...(ptau === undefined ? {} : { ptau: ptau.file }) },
      undefined,
    );
    const keys = this.keys.save(circuitSha, made.zkey, made.vkey, {
      ceremony: ptau === undefined ? "dev" : "ptau",
      power: ptau?.power ?? power,
      constraints: circuit.header.constraints,
      ...(ptau === undefined ? {} : { ptau: { sha256: ptau.sha256, power: ptau.power } }),
    });
    return { keys, cached: false, ms: performance.now() - started };
  }

  /** The keys of the program's circuit, or undefined before setup. */
  keysOf(program: ProgramRef): CircuitKeys | undefined {
    this.circuitOf(program);
    return this.keys.load(program.manifest.circuit!.sha256);
  }

  /** The Solidity verifier of the program's verification key (snarkjs's template: `verifyProof(a, b, c, publicSignals)`). */
  async exportSolidityVerifier(program: ProgramRef): Promise<string> {
    const keys = this.requireKeys(program);
    const template = fs.readFileSync(path.join(path.dirname(require.resolve("snarkjs")), "..", "templates", "verifier_groth16.sol.ejs"), "utf8");
    return this.snark.run<string>({ op: "exportVerifier", zkey: keys.paths.zkey, zkeyVersion: keys.version, template }, undefined);
  }

  /** The circuit's decoded form (checked once per circuit). */
  circuitOf(program: ProgramRef): CheckedCircuit {
    const ref = program.manifest.circuit;
    if (program.circuit === undefined || ref === undefined) {
      throw new ZkguestError("invalid_state", `program ${program.id} has no circuit: build it with \`zkguest build CONTROLLER --circuit FILE.circom\`, or prove it with the dev prover`);
    }
    if (ref.format !== CIRCUIT_FORMAT) throw new ZkguestError("unsupported_version", `program ${program.id}'s circuit is '${ref.format}'; the groth16 prover reads '${CIRCUIT_FORMAT}'`);
    let circuit = this.circuits.get(ref.sha256);
    if (circuit === undefined) {
      circuit = decodeCircuit(program.circuit);
      if (this.circuits.size >= 64) this.circuits.delete(this.circuits.keys().next().value!);
      this.circuits.set(ref.sha256, circuit);
    }
    return circuit;
  }

  /** Stops the snarkjs process (a later call would start another). */
  async close(): Promise<void> {
    await this.snark.close();
  }

  private requireKeys(program: ProgramRef): CircuitKeys {
    this.circuitOf(program);
    const sha = program.manifest.circuit!.sha256;
    const keys = this.keys.load(sha);
    if (keys === undefined) throw new ZkguestError("not_found", `no keys for circuit ${sha} of program ${program.id} in ${this.keys.dir}: run \`zkguest setup\``);
    return keys;
  }
}

/** Runs `body`; a ZkguestError it throws becomes a Left, anything else an internal Left. */
async function attempt<T>(body: () => Promise<T>): Promise<E.Either<Failure, T>> {
  try {
    return E.right(await body());
  } catch (e) {
    if (e instanceof ZkguestError) return E.left(failure(e.code, e.message));
    return E.left(failure("internal", `groth16: ${e instanceof Error ? e.message : String(e)}`));
  }
}

function checkPublicSignals(envelope: ProofEnvelope, circuit: CheckedCircuit, refuse: (why: string) => Error): void {
  const signals = envelope.publicSignals;
  if (signals.length !== circuit.publicCount) throw refuse(`it has ${signals.length} public signals, the circuit has ${circuit.publicCount}`);
  const outside = signals.findIndex((s) => !inField(s));
  if (outside >= 0) throw refuse(`public signal ${outside} is outside BN254's scalar field`);
}

/** An operator's powers-of-tau file: its path, SHA-256 and power (from its header: "ptau", version, sections; header section 1 holds n8, q, power). */
async function ptauRef(file: string): Promise<{ file: string; sha256: string; power: number }> {
  const resolved = path.resolve(file);
  if (!fs.existsSync(resolved)) throw new ZkguestError("not_found", `${file}: no such file`);
  const head = Buffer.alloc(64);
  const fd = fs.openSync(resolved, "r");
  try {
    fs.readSync(fd, head, 0, head.length, 0);
  } finally {
    fs.closeSync(fd);
  }
  // magic "ptau", u32 version, u32 sections; section 1: u32 type, u64 size, u32 n8, q (n8 bytes), u32 power.
  if (head.toString("latin1", 0, 4) !== "ptau" || head.readUInt32LE(12) !== 1) throw new ZkguestError("malformed_frame", `${file}: not a powers-of-tau file`);
  const n8 = head.readUInt32LE(24);
  if (n8 !== 32) throw new ZkguestError("malformed_frame", `${file}: not a BN254 powers of tau (field elements of ${n8} bytes)`);
  const power = head.readUInt32LE(28 + n8);
  const hash = (await import("node:crypto")).createHash("sha256");
  for await (const chunk of fs.createReadStream(resolved)) hash.update(chunk as Buffer);
  return { file: resolved, sha256: hash.digest("hex"), power };
}

export { sha256Hex };
