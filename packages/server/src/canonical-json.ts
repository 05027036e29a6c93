import { createHash } from "node:crypto";

/** JSON with object keys sorted at every level: equal values give equal text, whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Uint8Array)
      ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]]))
      : v instanceof Uint8Array
        ? { bytes: Buffer.from(v).toString("hex") }
        : v,
  );
}

/** What an idempotency key is bound to: the program and the arguments (SHA-256, hex). */
export function requestDigest(program: string, args: unknown): string {
  return createHash("sha256").update(program).update("\0").update(canonicalJson(args)).digest("hex");
}
