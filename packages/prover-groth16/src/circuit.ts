import { decode as decodeMsgpack, encode as encodeMsgpack } from "@msgpack/msgpack";
import { BytesC, struct, ZkguestError } from "@zkguest/protocol";
import { MAX_SIGNAL_DIMENSIONS } from "@zkguest/protocol/wire";
import * as t from "io-ts";
import { readR1csHeader, type R1csHeader } from "./r1cs.js";

/**
 * The circuit a program carries in its artifact (`artifact.circuit`, manifest
 * `circuit.format`): what `zkguest build --circuit` compiled with circom, as a canonical
 * MessagePack map. `r1cs` is circom's constraint system (setup reads it), `wasm` its witness
 * generator (proving runs it), `inputs` and `outputs` the main component's signals as the
 * circuit-input witness names them (inputs public first, then private, in circom's wire order).
 */
export const CIRCUIT_FORMAT = "zkguest-circom/1";

const SignalC = struct("Signal", { name: t.string, dims: t.array(t.number) }, { public: t.boolean });
export type Signal = t.TypeOf<typeof SignalC>;

const CircuitC = struct("Circuit", {
  format: t.literal(CIRCUIT_FORMAT),
  /** The compiler that built it, e.g. "circom 2.2.3 (circom2 0.2.23)"; informational. */
  compiler: t.string,
  /** The main circuit's file name; informational. */
  main: t.string,
  inputs: t.array(SignalC),
  outputs: t.array(SignalC),
  r1cs: BytesC,
  wasm: BytesC,
});
export type Circuit = t.TypeOf<typeof CircuitC>;

/** A decoded circuit and its r1cs header (checked against its signals). */
export interface CheckedCircuit extends Circuit {
  readonly header: R1csHeader;
  /** How many public signals a proof has: the outputs, then the public inputs (scalars). */
  readonly publicCount: number;
}

/** Array signals larger than this are refused: the prover checks every element. */
const MAX_SIGNAL_ELEMENTS = 1 << 20;
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** The number of scalars in a signal of these dimensions. */
export function signalSize(dims: readonly number[]): number {
  return dims.reduce((n, d) => n * d, 1);
}

export function encodeCircuit(circuit: Circuit): Uint8Array {
  return encodeMsgpack(circuit, { sortKeys: true });
}

/**
 * Reads a circuit from an artifact (untrusted): the map's shape, the r1cs header (BN254), and
 * that the signals agree with the r1cs's counts. Throws ZkguestError malformed_frame naming what
 * is wrong.
 */
export function decodeCircuit(bytes: Uint8Array): CheckedCircuit {
  const bad = (why: string) => new ZkguestError("malformed_frame", `circuit: ${why}`);
  let raw: unknown;
  try {
    raw = decodeMsgpack(bytes, { maxArrayLength: 1 << 20, maxMapLength: 64 });
  } catch (e) {
    throw bad(e instanceof Error ? e.message : String(e));
  }
  const format = (raw as { format?: unknown } | null)?.format;
  if (format !== CIRCUIT_FORMAT) throw bad(`format ${JSON.stringify(format)}, this prover reads '${CIRCUIT_FORMAT}'`);
  const r = CircuitC.decode(raw);
  if (r._tag === "Left") {
    const where = (r.left[0]?.context ?? []).map((c) => c.key).filter(Boolean).join(".");
    throw bad(`${where || "the map"} is missing or of the wrong type`);
  }
  const circuit = r.right;
  const header = readR1csHeader(circuit.r1cs);
  const names = new Set<string>();
  for (const s of [...circuit.outputs, ...circuit.inputs]) {
    // Names become keys of the input object snarkjs reads: none may be one of Object.prototype's.
    if (!IDENTIFIER.test(s.name) || s.name in Object.prototype) throw bad(`'${s.name.slice(0, 80)}' is not a signal name`);
    if (names.has(s.name)) throw bad(`signal ${s.name} is listed twice`);
    names.add(s.name);
    if (s.dims.length > MAX_SIGNAL_DIMENSIONS || s.dims.some((d) => !Number.isSafeInteger(d) || d < 1) || signalSize(s.dims) > MAX_SIGNAL_ELEMENTS) {
      throw bad(`signal ${s.name} has dimensions ${JSON.stringify(s.dims)} (at most ${MAX_SIGNAL_DIMENSIONS}, each at least 1, at most ${MAX_SIGNAL_ELEMENTS} elements)`);
    }
  }
  const count = (signals: readonly Signal[]) => signals.reduce((n, s) => n + signalSize(s.dims), 0);
  const publicInputs = circuit.inputs.filter((s) => s.public);
  const firstPrivate = circuit.inputs.findIndex((s) => !s.public);
  if (firstPrivate >= 0 && circuit.inputs.slice(firstPrivate).some((s) => s.public)) throw bad("public inputs must come before private ones");
  const agree = (what: string, listed: number, r1cs: number) => {
    if (listed !== r1cs) throw bad(`it lists ${listed} ${what} scalars, its r1cs has ${r1cs}`);
  };
  agree("output", count(circuit.outputs), header.outputs);
  agree("public input", count(publicInputs), header.publicInputs);
  agree("private input", count(circuit.inputs) - count(publicInputs), header.privateInputs);
  if (![0x00, 0x61, 0x73, 0x6d].every((b, i) => circuit.wasm[i] === b)) throw bad("its witness generator is not a WebAssembly module");
  return { ...circuit, header, publicCount: header.outputs + header.publicInputs };
}
