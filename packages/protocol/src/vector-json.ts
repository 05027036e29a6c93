import { fromHex, toHex } from "./hex.js";

/** One golden vector as stored in protocol/vectors/*.json (SPEC.md §9). */
export interface GoldenVector {
  readonly name: string;
  readonly description: string;
  /** The frame's bytes, lower-case hex. */
  readonly hex: string;
  /** The decoded frame, bytes as {"$bin": hex}: for valid and accepted vectors. */
  readonly value?: unknown;
  /** The error code decoding must fail with: for invalid vectors. */
  readonly error?: string;
  /** For invalid vectors: the id the refusal answers (SPEC.md §3.4); absent when no id can be read. */
  readonly id?: number;
  /** The receiver's max_frame_bytes the vector assumes, when not the default. */
  readonly max_frame_bytes?: number;
}

/**
 * How golden vectors render decoded values as JSON (SPEC.md §9): bytes become
 * `{"$bin": "<lower-case hex>"}`; everything else is plain JSON. Vectors never use a map whose
 * only key is "$bin".
 */
export function toVectorJson(value: unknown): unknown {
  if (value instanceof Uint8Array) return { $bin: toHex(value) };
  if (Array.isArray(value)) return value.map(toVectorJson);
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = toVectorJson(v);
    return out;
  }
  return value;
}

export function fromVectorJson(json: unknown): unknown {
  if (Array.isArray(json)) return json.map(fromVectorJson);
  if (typeof json === "object" && json !== null) {
    const keys = Object.keys(json);
    if (keys.length === 1 && keys[0] === "$bin") return fromHex((json as { $bin: string }).$bin);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(json)) out[k] = fromVectorJson(v);
    return out;
  }
  return json;
}
