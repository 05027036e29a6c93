/**
 * The protocol's error codes and the typed exception that carries one. This module has no
 * dependencies, so code that runs inside the sandbox (the guest SDK) can use it without pulling
 * in io-ts; errors.ts builds the io-ts codec from the same list.
 */

/** Every error code, in the order of SPEC.md §7. A code is stable once released. */
export const ERROR_CODES = [
  "invalid_path",
  "invalid_name",
  "not_found",
  "already_exists",
  "not_a_directory",
  "is_a_directory",
  "directory_not_empty",
  "directory_full",
  "no_space",
  "quota_exceeded",
  "corrupt_volume",
  "frame_too_large",
  "malformed_frame",
  "unknown_kind",
  "unsupported_version",
  "limit_exceeded",
  "invalid_state",
  "guest_error",
  "internal",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

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
