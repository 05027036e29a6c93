import { isZkguestError } from "@zkguest/protocol/core";

/** The streams a command talks to; tests pass their own. */
export interface CliIO {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly stdin: NodeJS.ReadableStream;
}

/** A command returns its exit code, or throws a UsageError / ZkguestError that main() prints as one line. */
export type Command = (argv: string[], io: CliIO) => Promise<number>;

/**
 * Wrong words on the command line: exit 2, one line. `usage` is a command's help text thrown
 * with it (`zkguest fs` gives its usage this way); main() prints it only when help was asked for.
 */
export class UsageError extends Error {
  override readonly name = "UsageError";
  constructor(
    message: string,
    readonly usage?: string,
  ) {
    super(message);
  }
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

/**
 * The most bytes of one line the CLI prints: a line holding text from outside (a guest's
 * message or log, a name read from an image, an error's cause) is cut there.
 */
export const MAX_LINE_BYTES = 4096;

/**
 * Characters a terminal acts on, shown as escapes instead: C0 and C1 controls and DEL (new
 * lines, carriage returns, escape sequences that move the cursor or recolor), the line and
 * paragraph separators, and the bidirectional marks and overrides that reorder what follows.
 */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const SHORT_ESCAPES: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

function escape(c: string): string {
  const code = c.charCodeAt(0);
  return SHORT_ESCAPES[c] ?? (code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`);
}

/**
 * Text from outside made safe to print as (part of) one line: what UNPRINTABLE matches is
 * escaped (`\n`, `\x1b`, `\u202e`), so a guest cannot start a line of its own (a fake
 * `zkguest: ok`), move the cursor or recolor the terminal; and the result is at most
 * `maxBytes` bytes, ending in ` … [cut: N more characters]` when it was cut. Only the part
 * that is printed is read, however long the text.
 */
export function printable(text: string, maxBytes: number = MAX_LINE_BYTES): string {
  const whole = escapedPrefix(text, maxBytes);
  if (whole.consumed === text.length) return whole.out;
  const part = escapedPrefix(text, maxBytes - Buffer.byteLength(cutMarker(text.length), "utf8"));
  return part.out + cutMarker(text.length - part.consumed);
}

/** The escaped form of as much of `text` as fits in `budget` bytes, and how many of its units that is. */
function escapedPrefix(text: string, budget: number): { out: string; consumed: number } {
  let out = "";
  let bytes = 0;
  let i = 0;
  while (i < text.length) {
    const code = text.codePointAt(i)!;
    // A surrogate pair is one character: never split.
    const c = code > 0xffff ? text.slice(i, i + 2) : text[i]!;
    const shown = UNPRINTABLE.test(c) ? escape(c) : c;
    // A lone surrogate half prints as U+FFFD, 3 bytes.
    const size = shown !== c ? shown.length : code < 0x80 ? 1 : code < 0x800 ? 2 : code > 0xffff ? 4 : 3;
    if (bytes + size > budget) break;
    out += shown;
    bytes += size;
    i += c.length;
  }
  return { out, consumed: i };
}

function cutMarker(cut: number): string {
  return ` … [cut: ${cut} more characters]`;
}

/** Prints lines, each made printable: how every command prints lines that hold text from outside. */
export function printLines(stream: NodeJS.WritableStream, lines: readonly string[]): void {
  stream.write(lines.map((line) => `${printable(line)}\n`).join(""));
}

/** JSON leaves DEL, C1 controls, separators and bidi marks raw: as \u escapes they are the same value to a parser, and nothing to a terminal. */
const JSON_UNPRINTABLE = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** Prints a value as JSON (what `--json` prints) with every character a terminal would act on escaped. */
export function printJson(stream: NodeJS.WritableStream, value: unknown, indent?: number): void {
  const json = JSON.stringify(value, null, indent).replace(JSON_UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  stream.write(`${json}\n`);
}

/** `word` as one shell word: quoted when it holds anything but plain path characters. */
export function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
