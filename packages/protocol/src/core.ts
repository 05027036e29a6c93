/**
 * `@zkguest/protocol/core`: the part of the protocol that code running inside the sandbox needs,
 * without io-ts or @msgpack/msgpack (which do not fit a guest's size and start-up budget, and
 * @msgpack/msgpack needs TextEncoder, which QuickJS does not have). Values: the error codes and
 * ZkguestError, version negotiation, the frame defaults. Types: every message type, erased at
 * compile time. The full package re-exports all of this.
 */
export * from "./zkguest-error.js";
export * from "./negotiate.js";
export * from "./frame-defaults.js";
export type { Value, Fields } from "./values.js";
export type { Limits } from "./limits.js";
export type {
  Body,
  Frame,
  GuestRequestKind,
  HelloReply,
  HostRequestKind,
  Kind,
  LogEntry,
  LogLevel,
  Message,
  Request,
  RequestKind,
  Response,
  ResponseKind,
  Result,
  Stat,
  StoreMode,
  Witness,
} from "./messages.js";
