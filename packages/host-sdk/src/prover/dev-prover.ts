import { failure, readMessagePack, scanMessagePack, type Failure, type Witness } from "@zkguest/protocol";
import { either as E } from "fp-ts";
import { createHash } from "node:crypto";
import { canonicalEncode } from "../canonical.js";
import type { ProgramRef, ProofInfo, Prover } from "./prover.js";

/** The `format` of a development proof. */
export const DEV_PROOF_FORMAT = "zkguest-dev-proof/1";

/** A development proof, as its MessagePack envelope holds it. */
export interface DevProof {
  readonly dev: true;
  /** SHA-256 over the format, the program id and the canonical encoding of the witnesses. */
  readonly digest: Uint8Array;
  readonly format: typeof DEV_PROOF_FORMAT;
  readonly program: string;
}

export interface DevProverOptions {
  /** Whether `verify` accepts development proofs (default false: a dev proof proves nothing). */
  readonly devMode?: boolean;
}

/**
 * A prover for development: no circuit, no cryptographic soundness. Its proof is a small
 * MessagePack envelope `{dev: true, digest, format, program}` whose digest is a SHA-256 over
 * the program id and the canonical encoding of the witnesses, so it is deterministic (same
 * program and witnesses, same bytes) and cheap. Marked `dev`, it is refused by `verify` unless
 * dev mode is on, so that it can never pass for a real proof by accident.
 */
export class DevProver implements Prover {
  readonly name = "dev";
  readonly devMode: boolean;

  constructor(options: DevProverOptions = {}) {
    this.devMode = options.devMode ?? false;
  }

  async prove(witnesses: readonly Witness[], program: ProgramRef): Promise<E.Either<Failure, Uint8Array>> {
    const proof: DevProof = { dev: true, digest: devDigest(witnesses, program.id), format: DEV_PROOF_FORMAT, program: program.id };
    return E.right(canonicalEncode(proof));
  }

  async verify(proof: Uint8Array, program: ProgramRef, witnesses?: readonly Witness[]): Promise<E.Either<Failure, void>> {
    const parsed = readDevProof(proof);
    if (E.isLeft(parsed)) return parsed;
    if (!this.devMode) return E.left(failure("invalid_state", "this is a development proof, which proves nothing; it is accepted only in dev mode"));
    const dev = parsed.right;
    if (dev.program !== program.id) return E.left(failure("invalid_state", `the proof is for program ${dev.program}, not ${program.id}`));
    if (witnesses !== undefined && !sameBytes(dev.digest, devDigest(witnesses, program.id))) {
      return E.left(failure("invalid_state", "the proof was not made from these witnesses"));
    }
    return E.right(undefined);
  }

  describe(): ProofInfo {
    return { prover: this.name, insecure: "dev prover: not a real proof" };
  }
}

/**
 * Reads a development proof's envelope; a Left if the bytes are not one. A proof to verify may
 * come from anyone: it is read within the envelope's shape (one map of four short fields).
 */
export function readDevProof(proof: Uint8Array): E.Either<Failure, DevProof> {
  const read = scanMessagePack(proof, { maxDepth: 1, maxItems: 16, maxStrBytes: 256 }) ?? readMessagePack(proof);
  if (typeof read === "string" || !read.ok) return E.left(failure("malformed_frame", `not a zkguest proof: ${typeof read === "string" ? read : read.why}`));
  const p = read.value as Partial<DevProof> | null;
  if (typeof p !== "object" || p === null || p.format !== DEV_PROOF_FORMAT || p.dev !== true || typeof p.program !== "string" || !(p.digest instanceof Uint8Array)) {
    return E.left(failure("malformed_frame", `not a ${DEV_PROOF_FORMAT} proof`));
  }
  return E.right(p as DevProof);
}

function devDigest(witnesses: readonly Witness[], programId: string): Uint8Array {
  return createHash("sha256").update(`${DEV_PROOF_FORMAT}\0${programId}\0`).update(canonicalEncode(witnesses)).digest();
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
