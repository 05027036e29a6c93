import type { RunReport } from "@zkguest/host-sdk";

/** A JSON value, as the API sends it. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A value made JSON: every byte string (Uint8Array) becomes lower-case hex, as `zkguest run --json` prints it. */
export function toJson(value: unknown): Json {
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("hex");
  if (Array.isArray(value)) return value.map(toJson);
  if (value !== null && typeof value === "object") {
    const out: { [key: string]: Json } = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toJson(v);
    return out;
  }
  return value as Json;
}

/**
 * A run's report as the API gives it: bytes as hex, and without the host's own stacks (a
 * client sees the guest's stack, never the server's code paths).
 */
export function reportJson(report: RunReport): Json {
  const guestStack = report.error?.code === "guest_error" || report.error?.code === "limit_exceeded";
  const error = report.error === undefined ? undefined : { ...report.error, stack: guestStack ? report.error.stack : undefined };
  const logs = report.logs.map((l) => (l.source === "host" ? { ...l, stack: undefined } : l));
  return toJson({ ...report, error, logs });
}
