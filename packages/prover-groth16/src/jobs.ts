import type { ErrorCode } from "@zkguest/protocol";
import type { Groth16Proof } from "snarkjs";

/** The operations the snarkjs thread runs (worker.ts); each reply is a JobReply. */
export type Job =
  | { op: "prove"; zkey: string; zkeyVersion: number; wasm: Uint8Array; input: unknown }
  | { op: "publicSignals"; wasm: Uint8Array; input: unknown; count: number }
  | { op: "verify"; vkey: unknown; publicSignals: readonly string[]; proof: Groth16Proof }
  | { op: "setup"; r1cs: Uint8Array; power: number; ptau?: string; devPtau: string; devPtauDir: string }
  | { op: "exportVerifier"; zkey: string; zkeyVersion: number; template: string };

export interface JobFailure {
  readonly code: ErrorCode;
  readonly message: string;
}

export type JobReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: JobFailure };
