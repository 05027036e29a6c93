import type { Witness } from "@zkguest/protocol/core";
import { encodeCircuitInput, type SignalInput } from "@zkguest/protocol/wire";

/**
 * The witness that holds a circuit's input signals, for a program built with a circuit
 * (`zkguest build controller.ts --circuit circuit.circom`):
 *
 * ```ts
 * return [circuitInput({ numbers: [1, 2, 3, 4], salt: "218882428718392752222464057452572750885" })];
 * ```
 *
 * Each key is an input signal of the circuit's main component; each value a field element (a
 * non-negative integer: a number below 2^53, a bigint, or a decimal string), or nested arrays of
 * them for an array signal. The bytes are canonical (SPEC.md §4.2.1): the same signals give the
 * same witness. Throws a RangeError or TypeError naming the signal for a value that is not a
 * non-negative integer; the prover checks the rest (every input present, no extra, the array
 * shapes, each value below the field's modulus).
 */
export function circuitInput(signals: Readonly<Record<string, SignalInput>>): Witness {
  return { type: "data", data: encodeCircuitInput(signals) };
}
