import type { Failure, Witness } from "@zkguest/protocol";
import type { Either } from "fp-ts/lib/Either.js";
import type { Manifest } from "../artifact.js";

/** The program a proof is about. */
export interface ProgramRef {
  /** The program id (lower-case hex SHA-256 of its code). */
  readonly id: string;
  readonly manifest: Manifest;
}

/**
 * Turns a run's witnesses into a proof, and checks proofs. The host calls `prove` between the
 * witness step and the entrypoint; a Left (or a thrown error) is a failed proving, which the
 * entrypoint is told about. Implementations: DevProver (built in), or a real circuit's prover.
 */
export interface Prover {
  /** A short name for reports and logs, e.g. "dev". */
  readonly name: string;
  prove(witnesses: readonly Witness[], program: ProgramRef): Promise<Either<Failure, Uint8Array>>;
  /**
   * Checks `proof` for `program`; with `witnesses`, also that it was made from them. Right when
   * the proof is accepted, Left naming why not.
   */
  verify(proof: Uint8Array, program: ProgramRef, witnesses?: readonly Witness[]): Promise<Either<Failure, void>>;
}
