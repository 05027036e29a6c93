import type { Either } from "fp-ts/lib/Either.js";
import { failure, type Failure } from "./zkguest-error.js";

// Versions and their negotiation (SPEC.md §8). No runtime dependency here (the Either is built as
// a literal, fp-ts is only a type), so that the guest SDK can use it inside the sandbox; the
// codec for a Version on the wire is VersionC in version.ts.

/** A protocol version on the wire: `[major, minor]`, each 0..65535. */
export type Version = readonly [major: number, minor: number];

/** The version this implementation speaks. */
export const PROTOCOL_VERSION: Version = [1, 1];

/** Every version this implementation can speak, highest minor per major. */
export const SUPPORTED_VERSIONS: readonly Version[] = [PROTOCOL_VERSION];

export function formatVersion(v: Version): string {
  return `${v[0]}.${v[1]}`;
}

/**
 * Picks the version two peers will speak: the highest major both support, at the lower of the
 * two minors. `offer` is what the other peer offered; `supported` is what this side speaks.
 */
export function negotiate(offer: readonly Version[], supported: readonly Version[] = SUPPORTED_VERSIONS): Either<Failure, Version> {
  let best: Version | undefined;
  for (const [major, theirMinor] of offer) {
    const ours = supported.find(([m]) => m === major);
    if (!ours) continue;
    if (!best || major > best[0]) best = [major, Math.min(theirMinor, ours[1])];
  }
  if (best) return { _tag: "Right", right: best };
  const list = (vs: readonly Version[]) => (vs.length ? vs.map(formatVersion).join(", ") : "nothing");
  return {
    _tag: "Left",
    left: failure("unsupported_version", `peer offers ${list(offer)}; this side speaks ${list(supported)}: no common major version`),
  };
}
