import { isZkguestError } from "@zkguest/protocol/core";

/** The streams a command talks to; tests pass their own. */
export interface CliIO {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly stdin: NodeJS.ReadableStream;
}

/** A command returns its exit code, or throws a UsageError / ZkguestError that main() prints as one line. */
export type Command = (argv: string[], io: CliIO) => Promise<number>;

/** Wrong words on the command line: exit 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** Exit codes shared by every command. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** One line, never a stack trace: `zkguest: <code>: <cause>`. */
export function describeError(err: unknown): { line: string; exitCode: number } {
  if (err instanceof UsageError) return { line: `usage: ${err.message}`, exitCode: EXIT_USAGE };
  if (isZkguestError(err)) {
    // An image that cannot be read at all is reported like a usage error (exit 2), as `zkguest fs` documents.
    const exitCode = err.code === "corrupt_volume" ? EXIT_USAGE : EXIT_FAILED;
    return { line: `${err.code}: ${err.message}`, exitCode };
  }
  const message = err instanceof Error ? err.message : String(err);
  const sysCode = (err as { code?: unknown } | null)?.code;
  if (typeof sysCode === "string" && /^E[A-Z]+$/.test(sysCode)) return { line: `io: ${message}`, exitCode: EXIT_FAILED };
  return { line: `internal: ${message}`, exitCode: EXIT_FAILED };
}
