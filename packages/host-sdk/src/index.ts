export { WasmEngine, type WasmGuest, type WasmInstanceOptions } from "./engine/wasm.js";
export * from "./engine/engine.js";
export { QuickJsEngine, QuickJsGuest, QuickJsInstance, type QuickJsEngineOptions, type QuickJsInstanceOptions } from "./engine/quickjs.js";
export { Host, type HostOptions, type RunOptions } from "./host.js";
export type { PhaseDisk } from "./phase-disk.js";
export { DiskQueue } from "./disk-queue.js";
export type { RunReport, RunError, RunResources, LogRecord, FileRecord, Phase } from "./report.js";
export { DEFAULT_RUN_LIMITS, LimitRangeError, limitRange, resolveLimits, type LimitRange, type RunLimits } from "./run-limits.js";
export { programRef, type Prover, type ProgramRef, type ProofInfo } from "./prover/prover.js";
/** What a Prover implementation takes and returns, from the protocol: witnesses in, a Failure (made with `failure`) out when it fails. */
export { failure, type ErrorCode, type Failure, type Witness } from "@zkguest/protocol";
export { DevProver, DEV_PROOF_FORMAT, readDevProof, type DevProof, type DevProverOptions } from "./prover/dev-prover.js";
export type { Registry } from "./registry/registry.js";
export { DirectoryRegistry, DEFAULT_DISK_BYTES, ensureDiskImage, type DirectoryRegistryOptions } from "./registry/directory-registry.js";
export { createArtifact, readArtifact, readArtifactFile, programIdOf, ARTIFACT_FORMAT, MAX_ARTIFACT_BYTES, MAX_CIRCUIT_BYTES, type Artifact, type ArtifactInput, type Manifest } from "./artifact.js";
export { MAX_SOURCE_MAP_BYTES, MAX_SOURCE_MAP_SEGMENTS, sourceMapProblem } from "./source-map/map.js";
