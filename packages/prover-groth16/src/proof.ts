import { struct, ZkguestError } from "@zkguest/protocol";
import { MAX_SIGNAL_DIGITS } from "@zkguest/protocol/wire";
import * as t from "io-ts";
import type { Groth16Proof } from "snarkjs";
import { CeremonyC } from "./keys.js";

/**
 * A Groth16 proof as the prover hands it to the entrypoint (and as the run's report holds it):
 * UTF-8 JSON with the proof and public signals in snarkjs's own formats, and what it is for:
 *
 * ```json
 * {"format":"zkguest-groth16-proof/1","program":"<id>","circuit":"<sha256>","vkey":"<sha256>",
 *  "ceremony":"dev","proof":{"pi_a":[...],"pi_b":[...],"pi_c":[...],"protocol":"groth16","curve":"bn128"},
 *  "publicSignals":["10","77"]}
 * ```
 *
 * `proof` is snarkjs's proof.json and `publicSignals` its public.json. `circuit` is the
 * program's circuit (its SHA-256), `vkey` the SHA-256 of the verification_key.json the proof
 * verifies against, `ceremony` how the keys were made (`dev`: insecure). Only the proof and the
 * public signals are checked by the pairing; `program`, `circuit`, `vkey` and `ceremony` say
 * which keys to check them with, and verification refuses a proof whose labels do not match.
 */
export const PROOF_FORMAT = "zkguest-groth16-proof/1";

/** A proof envelope larger than this is refused before it is parsed (a real one is about 1 KB plus its signals). */
export const MAX_PROOF_BYTES = 1024 * 1024;

const Decimal = new t.Type<string, string, unknown>(
  "Decimal",
  (u): u is string => typeof u === "string" && /^(0|[1-9][0-9]*)$/.test(u) && u.length <= MAX_SIGNAL_DIGITS,
  (u, c) => (typeof u === "string" && /^(0|[1-9][0-9]*)$/.test(u) && u.length <= MAX_SIGNAL_DIGITS ? t.success(u) : t.failure(u, c, "a decimal integer")),
  t.identity,
);
const Hash = t.refinement(t.string, (s) => /^[0-9a-f]{64}$/.test(s), "SHA-256");
const Pair = t.tuple([Decimal, Decimal]);
const ProofC = struct("Groth16Proof", {
  pi_a: t.tuple([Decimal, Decimal, Decimal]),
  pi_b: t.tuple([Pair, Pair, Pair]),
  pi_c: t.tuple([Decimal, Decimal, Decimal]),
  protocol: t.literal("groth16"),
  curve: t.literal("bn128"),
});
const EnvelopeC = struct("Groth16Envelope", {
  format: t.literal(PROOF_FORMAT),
  program: Hash,
  circuit: Hash,
  vkey: Hash,
  ceremony: CeremonyC,
  proof: ProofC,
  publicSignals: t.array(Decimal),
});
export type ProofEnvelope = t.TypeOf<typeof EnvelopeC>;

/** The envelope's bytes; its keys in the order above. */
export function encodeProof(envelope: Omit<ProofEnvelope, "format">): Uint8Array {
  const { program, circuit, vkey, ceremony, proof, publicSignals } = envelope;
  const snark: Groth16Proof = { pi_a: proof.pi_a, pi_b: proof.pi_b, pi_c: proof.pi_c, protocol: proof.protocol, curve: proof.curve };
  return Buffer.from(JSON.stringify({ format: PROOF_FORMAT, program, circuit, vkey, ceremony, proof: snark, publicSignals }), "utf8");
}

/** Reads a proof envelope; throws ZkguestError malformed_frame naming what is wrong. */
export function decodeProof(bytes: Uint8Array): ProofEnvelope {
  const bad = (why: string) => new ZkguestError("malformed_frame", `not a ${PROOF_FORMAT} proof: ${why}`);
  if (bytes.length > MAX_PROOF_BYTES) throw bad(`${bytes.length} bytes, the limit is ${MAX_PROOF_BYTES}`);
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8"));
  } catch (e) {
    throw bad(e instanceof Error ? e.message : String(e));
  }
  const r = EnvelopeC.decode(raw);
  if (r._tag === "Left") {
    const where = (r.left[0]?.context ?? []).map((c) => c.key).filter(Boolean).join(".");
    throw bad(`${where || "the envelope"} is missing or of the wrong type`);
  }
  return r.right;
}
