import type { Either } from "fp-ts/lib/Either.js";
import { failure, ZkguestError, type ErrorCode, type Failure } from "@zkguest/protocol/core";

/**
 * Inside the store, operations that can fail on bad input return a Result: an fp-ts Either
 * holding a protocol Failure. The values are built here rather than with fp-ts's constructors
 * (the same plain tagged objects) so that `zkguest fs` does not pay fp-ts's load time at start.
 */
export type Result<T> = Either<Failure, T>;

export const ok = <T>(right: T): Result<T> => ({ _tag: "Right", right });
export const fail = <T = never>(code: ErrorCode, message: string): Result<T> => ({ _tag: "Left", left: failure(code, message) });
export const corrupt = <T = never>(message: string): Result<T> => fail("corrupt_volume", message);
export const isLeft = <T>(r: Result<T>): r is { readonly _tag: "Left"; readonly left: Failure } => r._tag === "Left";

/** Unwraps a Result at the public edge: a Left becomes the typed ZkguestError. */
export function orThrow<T>(r: Result<T>): T {
  if (isLeft(r)) throw ZkguestError.from(r.left);
  return r.right;
}

/** Prefixes a failure's message with where it happened, e.g. the path of the file being read. */
export function within<T>(where: string, r: Result<T>): Result<T> {
  return isLeft(r) ? fail(r.left.code, `${where}: ${r.left.message}`) : r;
}

/** 12,345 (messages are for people). */
export const fmt = (n: number): string => n.toLocaleString("en-US");
