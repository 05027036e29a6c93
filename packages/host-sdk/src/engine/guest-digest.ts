import { keccak_256 } from "@noble/hashes/sha3.js";
import { createHash } from "node:crypto";

/**
 * The hash functions a JavaScript guest gets from the host (SPEC.md §11.1), by the global name
 * the guest calls them with: `__zkguest_sha256(data: ArrayBuffer): ArrayBuffer` and
 * `__zkguest_keccak256` (Ethereum's Keccak-256: the original padding, not SHA3-256's).
 *
 * Why in the host: QuickJS interprets a hash written in JavaScript about a hundred (Keccak-256)
 * to thousands (SHA-256) of times slower than these functions, copies included: 2.9 s against
 * 0.9 ms for the SHA-256 of 1 MiB, 9.8 s against 55 ms for its Keccak-256 (bench/hash.bench.ts,
 * docs/benchmarks.md). SHA-256 is node:crypto's; Keccak-256 is @noble/hashes' (audited, kept up;
 * Node has only SHA3-256), compiled by V8.
 */
export const GUEST_DIGESTS = {
  __zkguest_sha256: () => {
    const hash = createHash("sha256");
    return { update: (part: Uint8Array) => void hash.update(part), digest: () => new Uint8Array(hash.digest()) };
  },
  __zkguest_keccak256: () => {
    const hash = keccak_256.create();
    return { update: (part: Uint8Array) => void hash.update(part), digest: () => hash.digest() };
  },
} as const satisfies Record<string, () => IncrementalHash>;

export type GuestDigestName = keyof typeof GUEST_DIGESTS;

interface IncrementalHash {
  update(part: Uint8Array): void;
  digest(): Uint8Array;
}

/** Bytes hashed between two looks at the run's deadline: a few milliseconds of Keccak-256 at most. */
export const DIGEST_SLICE_BYTES = 64 * 1024;

/**
 * The digest of `data` by `name`. `ending()` is asked before each slice of DIGEST_SLICE_BYTES:
 * a guest hashing more than its time allows stops within a slice of its deadline, with what
 * `ending()` answered, instead of holding the thread for the whole input.
 */
export function guestDigest(name: GuestDigestName, data: Uint8Array, ending: () => Error | undefined): Uint8Array {
  const hash = GUEST_DIGESTS[name]();
  for (let at = 0; at < data.length || at === 0; at += DIGEST_SLICE_BYTES) {
    const reason = ending();
    if (reason !== undefined) throw reason;
    hash.update(data.subarray(at, at + DIGEST_SLICE_BYTES));
  }
  return hash.digest();
}
