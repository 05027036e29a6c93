import { ZkguestError, type Witness } from "@zkguest/protocol";
import { decodeCircuitInput, isCircuitInput, type SignalValue } from "@zkguest/protocol/wire";
import type { CheckedCircuit, Signal } from "./circuit.js";
import { inField } from "./field.js";

const bad = (why: string) => new ZkguestError("malformed_frame", `circuit input: ${why}`);

/** `numbers[4][2]`, `request`: a signal as the circuit declares it. */
export function describeSignal(s: Signal): string {
  return s.name + s.dims.map((d) => `[${d}]`).join("");
}

/**
 * The circuit's input from a run's witnesses, checked before any of it reaches the witness
 * generator: exactly one witness, the circuit input (SPEC.md §4.2.1); every input signal of the
 * circuit present, no other; each value of the signal's shape (nested arrays of its
 * dimensions) and inside BN254's scalar field. Throws ZkguestError malformed_frame naming the
 * signal (and element) and the rule.
 */
export function checkedCircuitInput(witnesses: readonly Witness[], circuit: CheckedCircuit): Record<string, SignalValue> {
  if (witnesses.length !== 1) throw bad(`the groth16 prover proves one witness, the circuit input (circuitInput(...)); got ${witnesses.length}`);
  const witness = witnesses[0]!;
  if (witness.type !== "data" || !isCircuitInput(witness.data)) throw bad(`the witness is not a circuit input (make it with circuitInput(...), SPEC.md §4.2.1)`);
  const signals = decodeCircuitInput(witness.data);
  const expected = circuit.inputs.map(describeSignal).join(", ") || "none";
  for (const name of Object.keys(signals)) {
    if (!circuit.inputs.some((s) => s.name === name)) throw bad(`signal ${name} is not an input of the circuit (its inputs: ${expected})`);
  }
  for (const s of circuit.inputs) {
    const value = signals[s.name];
    if (value === undefined) throw bad(`signal ${s.name} is missing (the circuit's inputs: ${expected})`);
    checkShape(value, s.dims, s.name, describeSignal(s));
  }
  return signals;
}

function checkShape(value: SignalValue, dims: readonly number[], where: string, declared: string): void {
  if (dims.length === 0) {
    if (typeof value !== "string") throw bad(`signal ${where}: expected a field element, got an array (the circuit declares ${declared})`);
    if (!inField(value)) throw bad(`signal ${where}: ${value} is outside BN254's scalar field (values are 0 to p-1)`);
    return;
  }
  if (typeof value === "string" || value.length !== dims[0]) {
    const got = typeof value === "string" ? "a single field element" : `an array of ${value.length}`;
    throw bad(`signal ${where}: expected an array of ${dims[0]}, got ${got} (the circuit declares ${declared})`);
  }
  value.forEach((v, i) => checkShape(v, dims.slice(1), `${where}[${i}]`, declared));
}
