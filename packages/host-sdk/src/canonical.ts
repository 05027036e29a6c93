import { Encoder } from "@msgpack/msgpack";
import { createHash } from "node:crypto";

// Map keys sorted, integers in their smallest form, absent fields omitted: the protocol's
// canonical MessagePack (SPEC.md §3.2) for the values the host hashes and measures. Keys here
// are the protocol's ASCII field names or guest-chosen strings; for ASCII, JS string order is
// the bytewise order the spec asks for.
const encoder = new Encoder({ sortKeys: true, ignoreUndefined: true });

/** The canonical MessagePack bytes of a value (witnesses, log fields, proof envelopes). */
export function canonicalEncode(value: unknown): Uint8Array {
  return encoder.encode(value);
}

/** Lower-case hex SHA-256 of `bytes`. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}
