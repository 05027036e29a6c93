import { either as E } from "fp-ts";
import { failure, ZkguestError, type ErrorCode, type Failure } from "@zkguest/protocol";

/** Inside the store, operations that can fail on bad input return a Result; the public edge throws. */
export type Result<T> = E.Either<Failure, T>;

export const ok = <T>(value: T): Result<T> => E.right(value);
export const fail = <T = never>(code: ErrorCode, message: string): Result<T> => E.left(failure(code, message));
export const corrupt = <T = never>(message: string): Result<T> => fail("corrupt_volume", message);

/** Unwraps a Result at the public edge: a Left becomes the typed ZkguestError. */
export function orThrow<T>(r: Result<T>): T {
  if (E.isLeft(r)) throw ZkguestError.from(r.left);
  return r.right;
}

/** Prefixes a failure's message with where it happened, e.g. the path of the file being read. */
export function within<T>(where: string, r: Result<T>): Result<T> {
  return E.isLeft(r) ? E.left(failure(r.left.code, `${where}: ${r.left.message}`)) : r;
}

/** 12,345 (messages are for people). */
export const fmt = (n: number): string => n.toLocaleString("en-US");
