import { originalPositionFor, TraceMap } from "@jridgewell/trace-mapping";
import { struct } from "@zkguest/protocol";
import * as t from "io-ts";
import { cutGuestText, GUEST_FILE } from "../guest-text.js";

/**
 * Source maps of JS guests (artifact.ts carries one; `zkguest build` makes it with esbuild): how
 * the host turns the frames of a failure's stack, `at ft (guest.js:1:16658)`, into the
 * controller's own `at ft (src/controller.ts:5:15)`, in the report its integrator and the CLI
 * see. The guest never sees a mapped stack (its entrypoint is told the witness step's failure
 * with its own frames, as they are).
 *
 * A map is untrusted like the rest of its artifact: its size is checked when the artifact is
 * read (MAX_SOURCE_MAP_BYTES), and it is decoded only when a stack needs it (which the run's fast
 * path never does), in a worker thread of its own (mapper.ts), never on the host's event loop. A map that is not one (not JSON, another
 * version, an index map, garbage in its mappings), that is too large to decode
 * (MAX_SOURCE_MAP_SEGMENTS) or that points nowhere leaves the stack as it was: a map never fails
 * a run. Decoding is @jridgewell/trace-mapping's (what Babel's and Node's tooling use) rather
 * than a VLQ decoder of our own.
 */

/** The largest source map an artifact carries (esbuild's map of a guest, without sourcesContent, is about 1.7 times its minified code). */
export const MAX_SOURCE_MAP_BYTES = 4 * 1024 * 1024;

/**
 * The most segments (mapped positions) of a map the host decodes: what its time and memory grow
 * with, about 0.2 s and 55 MiB for this many on the bench machine, whatever the segments hold.
 * esbuild writes about one segment per 4 bytes of minified code, so this is a bundle of 2 MB.
 */
export const MAX_SOURCE_MAP_SEGMENTS = 500_000;

/** A source map is an object of arrays of strings or numbers: two levels. */
const MAX_SOURCE_MAP_DEPTH = 2;

/**
 * Stacks are cut to MAX_GUEST_TEXT_BYTES before they reach the report, so a few hundred frames
 * at most; mapping stops at this many all the same, whatever it is given.
 */
const MAX_MAPPED_FRAMES = 512;

/** A source name longer than this (as the map writes it), or with control characters, is not shown: its frame stays as it was. */
const MAX_SOURCE_NAME_CHARS = 1024;

const SourceMapC = struct(
  "SourceMap",
  { version: t.literal(3), sources: t.array(t.union([t.string, t.null])), names: t.array(t.string), mappings: t.string },
  { sourceRoot: t.string, file: t.string },
);
type SourceMapJson = t.TypeOf<typeof SourceMapC>;

/** `at name (guest.js:LINE:COLUMN)` or `at guest.js:LINE:COLUMN`, as QuickJS writes a frame in the guest's script. */
const GUEST_FRAME = new RegExp(`^(\\s*at (?:.*\\()?)${GUEST_FILE.replace(".", "\\.")}:(\\d+):(\\d+)(\\)?\\s*)$`);

/**
 * The map in `bytes` (UTF-8 JSON) with its number of segments (at most), or why the host would
 * not use it. Takes time linear in its size, and nothing like decoding it.
 */
function parseSourceMap(bytes: Uint8Array): { json: SourceMapJson; segments: number } | { why: string } {
  const tooLarge = sourceMapTooLarge(bytes);
  if (tooLarge !== undefined) return { why: tooLarge };
  let json: unknown;
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    if (nestsDeeperThan(text, MAX_SOURCE_MAP_DEPTH)) return { why: `the source map nests deeper than ${MAX_SOURCE_MAP_DEPTH} levels (an index map, or not a source map)` };
    json = JSON.parse(text);
  } catch (e) {
    return { why: `the source map is not UTF-8 JSON (${(e as Error).message})` };
  }
  if (!SourceMapC.is(json)) return { why: "the source map is not a source map of version 3 (version, sources, names, mappings)" };
  if (!/^[A-Za-z0-9+/,;]*$/.test(json.mappings)) return { why: "the source map's mappings are not Base64 VLQ" };
  const segments = segmentsIn(json.mappings);
  if (segments > MAX_SOURCE_MAP_SEGMENTS) return { why: `the source map has ${segments} segments, the host decodes at most ${MAX_SOURCE_MAP_SEGMENTS}` };
  return { json, segments };
}

/** Why a source map is refused for its size (when an artifact is read, too). */
export function sourceMapTooLarge(bytes: Uint8Array): string | undefined {
  return bytes.length > MAX_SOURCE_MAP_BYTES ? `the source map is ${bytes.length} bytes, the limit is ${MAX_SOURCE_MAP_BYTES}` : undefined;
}

/**
 * Whether JSON text nests arrays and objects deeper than `max` (strings skipped). Checked before
 * JSON.parse, whose time grows with nesting (a megabyte of `[[[...` takes 0.2 s).
 */
function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > max) return true;
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) depth--;
  }
  return false;
}

/** How many segments `mappings` has at most: one per `,` or `;`-separated group. */
function segmentsIn(mappings: string): number {
  let n = 1;
  for (let i = 0; i < mappings.length; i++) {
    const c = mappings.charCodeAt(i);
    if (c === 0x2c /* , */ || c === 0x3b /* ; */) n++;
  }
  return n;
}

/**
 * Why the host would leave stacks unmapped with this source map (too large, not a map), or
 * undefined when it would use it; for builders, so that they refuse a map the host would not use.
 */
export function sourceMapProblem(bytes: Uint8Array): string | undefined {
  const parsed = parseSourceMap(bytes);
  return "why" in parsed ? parsed.why : undefined;
}

/** One guest's source map, decoded. */
export class GuestSourceMap {
  private constructor(
    private readonly map: TraceMap,
    /** The most segments it has: what it weighs decoded. */
    readonly segments: number,
  ) {}

  /** The map in `bytes`, or undefined when the host does not use it (see sourceMapProblem). */
  static read(bytes: Uint8Array): GuestSourceMap | undefined {
    const parsed = parseSourceMap(bytes);
    if ("why" in parsed) return undefined;
    try {
      return new GuestSourceMap(new TraceMap(parsed.json), parsed.segments);
    } catch {
      return undefined;
    }
  }

  /**
   * `stack` with each frame in the guest's script named by the map's source, line and column;
   * frames the map does not cover, and every other line, as they were.
   */
  mapStack(stack: string): string {
    let frames = 0;
    const lines = stack.split("\n").map((line) => (frames < MAX_MAPPED_FRAMES && GUEST_FRAME.test(line) && ++frames ? this.mapFrame(line) : line));
    return cutGuestText(lines.join("\n"));
  }

  private mapFrame(line: string): string {
    const [, before, lineText, columnText, after] = GUEST_FRAME.exec(line)!;
    try {
      // QuickJS counts lines and columns from 1, source maps columns from 0. A bundle is ASCII
      // (esbuild escapes the rest), so QuickJS's columns (characters) are the map's (UTF-16 units).
      const at = originalPositionFor(this.map, { line: Number(lineText), column: Number(columnText) - 1 });
      // A segment may name a source the map does not have.
      const source = typeof at.source === "string" ? shownSource(at.source) : undefined;
      if (source === undefined || at.line === null || at.column === null) return line;
      return `${before}${source}:${at.line}:${at.column + 1}${after}`;
    } catch {
      // Decoding is lazy: garbage in the mappings shows here.
      return line;
    }
  }
}

/** A map's source (a URL: esbuild writes `<entry>` as `%3Centry%3E`) as a stack shows it, or undefined when it should not be shown. */
function shownSource(source: string): string | undefined {
  if (source.length === 0 || source.length > MAX_SOURCE_NAME_CHARS) return undefined;
  let shown: string;
  try {
    shown = decodeURIComponent(source);
  } catch {
    shown = source;
  }
  return /[\u0000-\u001f\u007f]/.test(shown) ? undefined : shown;
}
