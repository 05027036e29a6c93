import * as t from "io-ts";

/**
 * The protocol's error codes: the single definition used by every package (the store, the
 * sandbox, the SDKs, the CLI). A code is stable once released; its meaning is in SPEC.md §7.
 */
export const ErrorCodeC = t.keyof({
  invalid_path: null,
  invalid_name: null,
  not_found: null,
  already_exists: null,
  not_a_directory: null,
  is_a_directory: null,
  directory_not_empty: null,
  directory_full: null,
  no_space: null,
  quota_exceeded: null,
  corrupt_volume: null,
  frame_too_large: null,
  malformed_frame: null,
  unknown_kind: null,
  unsupported_version: null,
  limit_exceeded: null,
  invalid_state: null,
  guest_error: null,
  internal: null,
});
export type ErrorCode = t.TypeOf<typeof ErrorCodeC>;

export const ERROR_CODES = Object.keys(ErrorCodeC.keys) as readonly ErrorCode[];

/** An error as a value: what travels inside Either and what an error response carries. */
export interface Failure {
  readonly code: ErrorCode;
  readonly message: string;
}

export function failure(code: ErrorCode, message: string): Failure {
  return { code, message };
}

/**
 * The typed exception thrown at the public edge of every zkguest package. `code` is one of
 * the protocol's error codes; `message` names the cause and the rule that was broken.
 */
export class ZkguestError extends Error implements Failure {
  override readonly name = "ZkguestError";
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }

  static from(f: Failure): ZkguestError {
    return new ZkguestError(f.code, f.message);
  }

  /** The one-line form the CLI prints: `code: cause`. */
  override toString(): string {
    return `${this.code}: ${this.message}`;
  }
}

export function isZkguestError(e: unknown): e is ZkguestError {
  return e instanceof ZkguestError;
}
