import { isZkguestError, type ErrorCode } from "@zkguest/protocol";
import { STATUS_CODES } from "node:http";

/** An error with the HTTP status the API answers it with and the protocol error code it carries. */
export class HttpError extends Error {
  override readonly name = "HttpError";
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The HTTP status of a ZkguestError thrown by the host or a store, by its code. */
const STATUS_OF: Partial<Record<ErrorCode, number>> = {
  invalid_path: 400,
  invalid_name: 400,
  not_a_directory: 400,
  is_a_directory: 400,
  malformed_frame: 400,
  unknown_kind: 400,
  unsupported_version: 400,
  not_found: 404,
  already_exists: 409,
  invalid_state: 409,
  frame_too_large: 413,
  limit_exceeded: 413,
};

/** The body of an error response (RFC 9457 problem details, plus the protocol's code). */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly code: ErrorCode;
  readonly detail: string;
}

export const PROBLEM_CONTENT_TYPE = "application/problem+json";

export function problem(status: number, code: ErrorCode, detail: string): Problem {
  return { type: `urn:zkguest:error:${code}`, title: STATUS_CODES[status] ?? "Error", status, code, detail };
}

/** The problem for an error a route threw: HttpError and ZkguestError keep their code; anything else is `internal` (500) and says nothing of the server's insides. */
export function problemOf(err: unknown): Problem | undefined {
  if (err instanceof HttpError) return problem(err.status, err.code, err.message);
  if (isZkguestError(err)) return problem(STATUS_OF[err.code] ?? 500, err.code, err.message);
  return undefined;
}
