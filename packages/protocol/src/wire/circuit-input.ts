import { ZkguestError } from "../zkguest-error.js";
import { readMessagePack } from "./reader.js";
import { encodeValue } from "./writer.js";

/**
 * The circuit-input witness (SPEC.md §4.2.1): a `data` witness whose bytes are the canonical
 * MessagePack map `{format: "zkguest-circuit-input/1", signals: {NAME: VALUE, ...}}`, where a
 * VALUE is a field element written as a decimal string (digits only, no sign, no leading
 * zero) or an array of VALUEs for an array signal (nested arrays for more dimensions). Any
 * proving system whose inputs are named field elements (circom's, for Groth16) reads it; the
 * prover checks the names, shapes and the field's range against its circuit.
 */
export const CIRCUIT_INPUT_FORMAT = "zkguest-circuit-input/1";

/** A signal's value as the witness holds it: a decimal string, or nested arrays of them. */
export type SignalValue = string | readonly SignalValue[];

/** What a guest may give for a signal: a non-negative safe integer, a bigint, a decimal string, or arrays of these. */
export type SignalInput = number | bigint | string | readonly SignalInput[];

/** Decimal digits of a non-negative integer, without leading zeros. */
const DECIMAL = /^(0|[1-9][0-9]*)$/;

/** Array nesting beyond this is refused: no circuit's signal has that many dimensions. */
export const MAX_SIGNAL_DIMENSIONS = 8;

/** Longest decimal string accepted: 2^256 has 78 digits, and no field of a proving system here is larger. */
export const MAX_SIGNAL_DIGITS = 78;

/**
 * The signals' values in their witness form (decimal strings). Throws a RangeError naming the
 * signal for anything that is not a non-negative integer (a negative or fractional number, a
 * number past 2^53 that has lost its digits, a string that is not decimal digits).
 */
export function normalizeSignals(signals: Readonly<Record<string, SignalInput>>): Record<string, SignalValue> {
  if (typeof signals !== "object" || signals === null || Array.isArray(signals)) throw new TypeError("circuitInput: expects an object { signal: value, ... }");
  const out: Record<string, SignalValue> = {};
  for (const name of Object.keys(signals)) {
    if (name === "" || name === "__proto__") throw new RangeError(`circuitInput: '${name}' is not a signal name`);
    out[name] = normalizeValue(signals[name]!, name, 0);
  }
  return out;
}

function normalizeValue(v: SignalInput, where: string, depth: number): SignalValue {
  if (Array.isArray(v)) {
    if (depth >= MAX_SIGNAL_DIMENSIONS) throw new RangeError(`circuitInput: ${where}: more than ${MAX_SIGNAL_DIMENSIONS} dimensions`);
    return v.map((x: SignalInput, i: number) => normalizeValue(x, `${where}[${i}]`, depth + 1));
  }
  if (typeof v === "number") {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`circuitInput: ${where}: ${v} is not a non-negative integer below 2^53 (write larger field elements as decimal strings or bigints)`);
    return String(v);
  }
  if (typeof v === "bigint") {
    if (v < 0n) throw new RangeError(`circuitInput: ${where}: ${v} is negative (field elements are written from 0 to p-1)`);
    return checkedDigits(v.toString(), where);
  }
  if (typeof v === "string") return checkedDigits(v, where);
  throw new TypeError(`circuitInput: ${where}: a ${v === null ? "null" : typeof v} is not a field element`);
}

function checkedDigits(s: string, where: string): string {
  if (!DECIMAL.test(s)) throw new RangeError(`circuitInput: ${where}: '${s.slice(0, 80)}' is not a decimal non-negative integer without leading zeros`);
  if (s.length > MAX_SIGNAL_DIGITS) throw new RangeError(`circuitInput: ${where}: ${s.length} digits, more than any field element (${MAX_SIGNAL_DIGITS})`);
  return s;
}

/** The circuit-input witness's bytes for `signals` (canonical: the same signals give the same bytes). */
export function encodeCircuitInput(signals: Readonly<Record<string, SignalInput>>): Uint8Array {
  return encodeValue({ format: CIRCUIT_INPUT_FORMAT, signals: normalizeSignals(signals) }, "circuit input");
}

/** Whether a data witness's bytes claim to be a circuit input (they may still be malformed). */
export function isCircuitInput(bytes: Uint8Array): boolean {
  const r = readMessagePack(bytes);
  return r.ok && typeof r.value === "object" && r.value !== null && (r.value as { format?: unknown }).format === CIRCUIT_INPUT_FORMAT;
}

/**
 * Reads a circuit-input witness's bytes (strict MessagePack, SPEC.md §3.3): the signals, each
 * value a decimal string or nested arrays of them. Throws ZkguestError malformed_frame naming the
 * signal and the rule for anything else.
 */
export function decodeCircuitInput(bytes: Uint8Array): Record<string, SignalValue> {
  const bad = (why: string) => new ZkguestError("malformed_frame", `circuit input: ${why}`);
  const r = readMessagePack(bytes);
  if (!r.ok) throw bad(r.why);
  const top = r.value as { format?: unknown; signals?: unknown } | null;
  if (typeof top !== "object" || top === null || Array.isArray(top) || top instanceof Uint8Array) throw bad("expected a map {format, signals}");
  if (top.format !== CIRCUIT_INPUT_FORMAT) throw bad(`format is ${JSON.stringify(top.format)}, expected '${CIRCUIT_INPUT_FORMAT}'`);
  const extra = Object.keys(top).filter((k) => k !== "format" && k !== "signals");
  if (extra.length > 0) throw bad(`unexpected key '${extra[0]}'`);
  const signals = top.signals;
  if (typeof signals !== "object" || signals === null || Array.isArray(signals) || signals instanceof Uint8Array) throw bad("signals: expected a map of signal names to values");
  const out: Record<string, SignalValue> = {};
  for (const [name, value] of Object.entries(signals as Record<string, unknown>)) out[name] = readValue(value, name, 0, bad);
  return out;
}

function readValue(v: unknown, where: string, depth: number, bad: (why: string) => ZkguestError): SignalValue {
  if (Array.isArray(v)) {
    if (depth >= MAX_SIGNAL_DIMENSIONS) throw bad(`signal ${where}: more than ${MAX_SIGNAL_DIMENSIONS} dimensions`);
    return v.map((x, i) => readValue(x, `${where}[${i}]`, depth + 1, bad));
  }
  if (typeof v !== "string") throw bad(`signal ${where}: expected a decimal string or an array, got ${v instanceof Uint8Array ? "bytes" : typeof v}`);
  if (!DECIMAL.test(v) || v.length > MAX_SIGNAL_DIGITS) throw bad(`signal ${where}: '${v.slice(0, 80)}' is not a decimal non-negative integer of at most ${MAX_SIGNAL_DIGITS} digits without leading zeros`);
  return v;
}
