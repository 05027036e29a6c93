import * as t from "io-ts";
import { either as E } from "fp-ts";
import { failure, type Failure } from "./errors.js";

/** A protocol version on the wire: `[major, minor]`, each 0..65535. */
export type Version = readonly [major: number, minor: number];

const isPart = (u: unknown): u is number => typeof u === "number" && Number.isInteger(u) && u >= 0 && u <= 0xffff;

export const VersionC = new t.Type<Version, Version, unknown>(
  "Version",
  (u): u is Version => Array.isArray(u) && u.length === 2 && isPart(u[0]) && isPart(u[1]),
  (u, c) =>
    Array.isArray(u) && u.length === 2 && isPart(u[0]) && isPart(u[1])
      ? t.success(u as unknown as Version)
      : t.failure(u, c, "expected [major, minor], two integers 0..65535"),
  t.identity,
);

/** The version this implementation speaks. */
export const PROTOCOL_VERSION: Version = [1, 0];

/** Every version this implementation can speak, highest minor per major. */
export const SUPPORTED_VERSIONS: readonly Version[] = [PROTOCOL_VERSION];

export function formatVersion(v: Version): string {
  return `${v[0]}.${v[1]}`;
}

/**
 * Picks the version two peers will speak: the highest major both support, at the lower of the
 * two minors. `offer` is what the other peer offered; `supported` is what this side speaks.
 */
export function negotiate(offer: readonly Version[], supported: readonly Version[] = SUPPORTED_VERSIONS): E.Either<Failure, Version> {
  let best: Version | undefined;
  for (const [major, theirMinor] of offer) {
    const ours = supported.find(([m]) => m === major);
    if (!ours) continue;
    if (!best || major > best[0]) best = [major, Math.min(theirMinor, ours[1])];
  }
  if (best) return E.right(best);
  const list = (vs: readonly Version[]) => (vs.length ? vs.map(formatVersion).join(", ") : "nothing");
  return E.left(
    failure("unsupported_version", `peer offers ${list(offer)}; this side speaks ${list(supported)}: no common major version`),
  );
}
