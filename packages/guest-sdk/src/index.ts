/**
 * @zkguest/guest-sdk: what a zkguest controller is written with. It runs inside the sandbox
 * (QuickJS), speaks only the protocol through the JavaScript transport of SPEC.md §11, and
 * uses no Node API.
 */
export { defineController, type Carriable, type Controller, type ControllerSpec, type ProofResult } from "./controller.js";
export { fs } from "./fs.js";
export { log, type LogFields } from "./log.js";
export { serve, GUEST_SDK } from "./session.js";
export { ready } from "./ready.js";
export { circuitInput } from "./circuit.js";
export { sha256, keccak256 } from "./hash.js";
export type { SignalInput } from "@zkguest/protocol/wire";
export { encodeUtf8, decodeUtf8 } from "@zkguest/protocol/wire";
export { ZkguestError, isZkguestError } from "@zkguest/protocol/core";
export type { ErrorCode, LogEntry, LogLevel, Stat, StoreMode, Value, Witness } from "@zkguest/protocol/core";
