import * as t from "io-ts";
import { ERROR_CODES, type ErrorCode } from "./zkguest-error.js";

export { ERROR_CODES, failure, isZkguestError, ZkguestError, type ErrorCode, type Failure } from "./zkguest-error.js";

/**
 * The protocol's error codes as an io-ts codec: the single list in zkguest-error.ts, used by
 * every package (the store, the sandbox, the SDKs, the CLI). Meanings are in SPEC.md §7.
 */
export const ErrorCodeC = t.keyof(Object.fromEntries(ERROR_CODES.map((code) => [code, null])) as Record<ErrorCode, null>);
