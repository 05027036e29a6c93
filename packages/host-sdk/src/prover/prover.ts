import type { Failure, Witness } from "@zkguest/protocol";
import type { Either } from "fp-ts/lib/Either.js";
import type { Artifact, Manifest } from "../artifact.js";

/** The program a proof is about. */
export interface ProgramRef {
  /** The program id (lower-case hex SHA-256 of its code). */
  readonly id: string;
  readonly manifest: Manifest;
  /** The circuit the artifact carries (its format is `manifest.circuit.format`), if any. */
  readonly circuit?: Uint8Array;
}

/** The program an artifact holds, as provers see it. */
export function programRef(artifact: Artifact): ProgramRef {
  return { id: artifact.manifest.id, manifest: artifact.manifest, ...(artifact.circuit === undefined ? {} : { circuit: artifact.circuit }) };
}

/** What a prover says about one of its proofs, for the run's report. */
export interface ProofInfo {
  /** The prover's name, e.g. "dev" or "groth16". */
  readonly prover: string;
  /** The circuit's public signals (its outputs, then its public inputs), as decimal strings. */
  readonly publicSignals?: readonly string[];
  /** Why the proof must not be trusted, when it must not (a dev proof, keys from an insecure ceremony). */
  readonly insecure?: string;
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
  /** What the report shows about a proof this prover made (undefined: nothing beyond its size). */
  describe?(proof: Uint8Array): ProofInfo | undefined;
}
