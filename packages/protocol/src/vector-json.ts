import { fromHex, toHex } from "./hex.js";

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
