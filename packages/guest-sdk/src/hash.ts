import { encodeUtf8 } from "@zkguest/protocol/wire";

/** The host's hash functions (SPEC.md §11.1), by the global name a JavaScript host defines them under. */
type DigestGlobal = "__zkguest_sha256" | "__zkguest_keccak256";

/** SHA-256 of `data` (a string is hashed as its UTF-8 bytes): 32 bytes. */
export function sha256(data: Uint8Array | string): Uint8Array {
  return digest("__zkguest_sha256", data);
}

/** Keccak-256 of `data`, as Ethereum uses it (not SHA3-256, whose padding differs): 32 bytes. */
export function keccak256(data: Uint8Array | string): Uint8Array {
  return digest("__zkguest_keccak256", data);
}

/**
 * Hashing is done by the host, at native speed and counted against the run's time limit:
 * in QuickJS, a hash written in JavaScript runs hundreds of times slower (bench/hash.bench.ts).
 */
function digest(name: DigestGlobal, data: Uint8Array | string): Uint8Array {
  const hash = (globalThis as Record<string, unknown>)[name];
  if (typeof hash !== "function") throw new TypeError(`${name} is not defined: hashing needs a zkguest host (SPEC.md §11.1)`);
  const bytes = typeof data === "string" ? encodeUtf8(data) : data;
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`${name.slice("__zkguest_".length)} takes a Uint8Array or a string`);
  // The host takes one ArrayBuffer: a view of part of one is copied out first.
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer;
  return new Uint8Array((hash as (data: ArrayBuffer) => ArrayBuffer)(whole ? (bytes.buffer as ArrayBuffer) : bytes.slice().buffer));
}
