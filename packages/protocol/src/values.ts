import * as t from "io-ts";

/** Raw bytes: MessagePack `bin` on the wire, Uint8Array in TypeScript. */
export const BytesC = new t.Type<Uint8Array, Uint8Array, unknown>(
  "Bytes",
  (u): u is Uint8Array => u instanceof Uint8Array,
  (u, c) => (u instanceof Uint8Array ? t.success(u) : t.failure(u, c, "expected bytes (bin)")),
  t.identity,
);

/** A non-negative integer that every peer can represent exactly: 0 .. 2^53-1. */
export const UIntC = new t.Type<number, number, unknown>(
  "UInt",
  (u): u is number => typeof u === "number" && Number.isSafeInteger(u) && u >= 0,
  (u, c) =>
    typeof u === "number" && Number.isSafeInteger(u) && u >= 0
      ? t.success(u)
      : t.failure(u, c, "expected an unsigned integer (0 .. 2^53-1)"),
  t.identity,
);

/** A request id: 0 .. 2^32-1. */
export const IdC = new t.Type<number, number, unknown>(
  "Id",
  (u): u is number => typeof u === "number" && Number.isInteger(u) && u >= 0 && u <= 0xffffffff,
  (u, c) =>
    typeof u === "number" && Number.isInteger(u) && u >= 0 && u <= 0xffffffff
      ? t.success(u)
      : t.failure(u, c, "expected a request id (0 .. 2^32-1)"),
  t.identity,
);

/**
 * A JSON-like value that may also hold bytes: what request arguments, log fields and response
 * values are made of. Numbers are finite; maps have string keys.
 */
export type Value = null | boolean | number | string | Uint8Array | Value[] | { [key: string]: Value };

/** Deeper values than this are refused, so that validating or copying a value never overflows the stack. */
export const MAX_VALUE_DEPTH = 64;

function isPlainObject(u: object): u is Record<string, unknown> {
  const proto = Object.getPrototypeOf(u);
  return proto === Object.prototype || proto === null;
}

/** Why `u` is not a Value, or undefined when it is one. */
function valueProblem(u: unknown, depth: number): string | undefined {
  switch (typeof u) {
    case "boolean":
    case "string":
      return undefined;
    case "number":
      return Number.isFinite(u) ? undefined : "numbers must be finite";
    case "object": {
      if (u === null || u instanceof Uint8Array) return undefined;
      if (depth >= MAX_VALUE_DEPTH) return `nested deeper than ${MAX_VALUE_DEPTH} levels`;
      if (Array.isArray(u)) {
        for (const item of u) {
          const p = valueProblem(item, depth + 1);
          if (p) return p;
        }
        return undefined;
      }
      if (!isPlainObject(u)) return "expected a plain object";
      // The wire refuses this key (SPEC.md §3.3): refuse it here too, so callers learn before sending.
      if (Object.prototype.hasOwnProperty.call(u, "__proto__")) return "the map key '__proto__' is refused";
      for (const key in u) {
        const p = valueProblem(u[key], depth + 1);
        if (p) return p;
      }
      return undefined;
    }
    default:
      return `a ${typeof u} is not a protocol value`;
  }
}

export const ValueC = new t.Type<Value, Value, unknown>(
  "Value",
  (u): u is Value => valueProblem(u, 0) === undefined,
  (u, c) => {
    const problem = valueProblem(u, 0);
    return problem === undefined ? t.success(u as Value) : t.failure(u, c, problem);
  },
  t.identity,
);

/** A map of string keys to Values (log fields, for instance). */
export const FieldsC = t.record(t.string, ValueC);
export type Fields = t.TypeOf<typeof FieldsC>;

/**
 * The first integer literal in a JSON text that lies beyond ±(2^53-1), where JSON.parse would
 * round it (SPEC.md §4.1: such integers travel as decimal strings); undefined when there is
 * none. Literals with a fraction or an exponent are floats by the writer's choice and are left
 * alone.
 */
export function unsafeIntegerLiteral(json: string): string | undefined {
  for (const [token] of json.matchAll(/"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g)) {
    if (token.startsWith('"') || /[.eE]/.test(token)) continue;
    if (!Number.isSafeInteger(Number(token))) return token;
  }
  return undefined;
}
