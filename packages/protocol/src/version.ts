import * as t from "io-ts";
import type { Version } from "./negotiate.js";

export { formatVersion, negotiate, PROTOCOL_VERSION, SUPPORTED_VERSIONS, type Version } from "./negotiate.js";

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
