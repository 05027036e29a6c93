import { printLines, type CliIO } from "./cli-io.js";

/**
 * Bytes as a report shows them: `text` when they are UTF-8 text a terminal shows as it is, else
 * `hex` (lower-case). The key says which, in JSON and in print.
 */
export type ShownBytes = { readonly text: string } | { readonly hex: string };

/** Controls that make bytes binary rather than text: C0 but tab, new line and carriage return; DEL; C1. */
const BINARY_CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;

/** Strict UTF-8 that keeps a byte order mark: text it accepts encodes back to the same bytes. */
const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The text `bytes` hold, or undefined when they are not valid UTF-8 or hold a control character that is not tab or a line break. */
export function textOf(bytes: Uint8Array): string | undefined {
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    return undefined;
  }
  return BINARY_CONTROL.test(text) ? undefined : text;
}

/** `{text}` when textOf finds text in `bytes`, else `{hex}`. */
export function showBytes(bytes: Uint8Array): ShownBytes {
  const text = textOf(bytes);
  return text !== undefined ? { text } : { hex: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex") };
}

/** Whether `stream` is a terminal, where raw bytes from outside must not go (they could move the cursor, recolor, forge lines). */
export function isTerminal(stream: NodeJS.WritableStream): boolean {
  return (stream as { isTTY?: boolean }).isTTY === true;
}

/** `xxd`-style lines: offset (from `start`), 16 bytes in hex, and their printable ASCII. */
export function hexdumpLines(bytes: Uint8Array, start = 0): string[] {
  const lines: string[] = [];
  for (let at = 0; at < bytes.length; at += 16) {
    const row = bytes.subarray(at, at + 16);
    const hex = Array.from(row, (b) => b.toString(16).padStart(2, "0")).join(" ");
    const ascii = Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : ".")).join("");
    lines.push(`${(start + at).toString(16).padStart(8, "0")}  ${hex.padEnd(47)}  |${ascii}|`);
  }
  return lines;
}

/** Whether the bytes `chunks` give are text by textOf's rule, read as a stream (a file is never held whole). */
function isTextStream(chunks: Iterable<Uint8Array>): boolean {
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  try {
    for (const chunk of chunks) if (BINARY_CONTROL.test(decoder.decode(chunk, { stream: true }))) return false;
    return !BINARY_CONTROL.test(decoder.decode());
  } catch {
    return false;
  }
}

/**
 * The most UTF-16 units of one line printed at once: a longer line is printed in pieces, so a
 * file with no line break is never held whole, and no piece is cut by printLines (6 bytes at
 * most per unit, escaped, within MAX_LINE_BYTES).
 */
const TERMINAL_PIECE_UNITS = 512;

/**
 * A file's bytes shown on a terminal (`fs cat` and `remote cat` when stdout is one): its lines,
 * escaped, when it is text by textOf's rule; else, after one line on stderr saying so, an
 * xxd-style hex dump. `chunks` gives the file (of `size` bytes) from its start each time it is
 * called: it is read twice, once to tell which it is and once to show it, so that a large file
 * is never held whole.
 */
export function showOnTerminal(io: CliIO, name: string, size: number, chunks: () => Iterable<Uint8Array>): void {
  if (isTextStream(chunks())) return printTextStream(io, chunks());
  printLines(io.stderr, [`zkguest: ${name} is binary (${size} bytes), shown as hex; redirect stdout for its bytes`]);
  let offset = 0;
  let carry: Uint8Array = new Uint8Array(0);
  for (const chunk of chunks()) {
    // Whole rows of 16 bytes, whatever the chunks' sizes; what is left waits for the next chunk.
    const bytes = carry.length === 0 ? chunk : Buffer.concat([carry, chunk]);
    const whole = bytes.length - (bytes.length % 16);
    printLines(io.stdout, hexdumpLines(bytes.subarray(0, whole), offset));
    offset += whole;
    carry = bytes.slice(whole);
  }
  printLines(io.stdout, hexdumpLines(carry, offset));
}

function printTextStream(io: CliIO, chunks: Iterable<Uint8Array>): void {
  const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
  let pending = "";
  for (const chunk of chunks) {
    const lines = (pending + decoder.decode(chunk, { stream: true })).split("\n");
    // The unfinished last line waits for the next chunk; past a piece's length, its pieces go now.
    const unfinished = pieces(lines.pop()!);
    pending = unfinished.pop()!;
    printLines(io.stdout, [...lines.flatMap(pieces), ...unfinished]);
  }
  // A text that ends with a line break has no line after it.
  const last = pending + decoder.decode();
  if (last !== "") printLines(io.stdout, pieces(last));
}

/** A line as pieces of at most TERMINAL_PIECE_UNITS, never splitting a surrogate pair. */
function pieces(line: string): string[] {
  const out: string[] = [];
  let rest = line;
  while (rest.length > TERMINAL_PIECE_UNITS) {
    const cut = pieceEnd(rest);
    out.push(rest.slice(0, cut));
    rest = rest.slice(cut);
  }
  out.push(rest);
  return out;
}

/** Where the first piece of `text` ends: TERMINAL_PIECE_UNITS, or one unit before when that would split a surrogate pair. */
function pieceEnd(text: string): number {
  const high = text.charCodeAt(TERMINAL_PIECE_UNITS - 1);
  return high >= 0xd800 && high <= 0xdbff ? TERMINAL_PIECE_UNITS - 1 : TERMINAL_PIECE_UNITS;
}
