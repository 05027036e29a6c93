/**
 * @zkguest/prover-groth16 (GPL-3.0): a Groth16 prover for zkguest. Circuits in circom, compiled
 * by circom2; keys, proofs and verification by snarkjs over BN254.
 */
export { Groth16Prover, DEV_CEREMONY_WARNING, MAX_DEV_POWER, type Groth16ProverOptions, type SetupOptions, type SetupResult } from "./prover.js";
export { compileCircuit, CircuitBuildError, type CompileOptions, type CompiledCircuit } from "./compile.js";
export { CIRCUIT_FORMAT, decodeCircuit, signalSize, type Circuit, type CheckedCircuit, type Signal } from "./circuit.js";
export { describeSignal } from "./input.js";
export { KeyStore, KEYS_FORMAT, type CircuitKeys, type SetupRecord, type Ceremony } from "./keys.js";
export { PROOF_FORMAT, decodeProof, encodeProof, type ProofEnvelope } from "./proof.js";
export { BN254_SCALAR_FIELD } from "./field.js";
