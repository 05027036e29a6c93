import { originalPositionFor, TraceMap } from "@jridgewell/trace-mapping";
import { struct } from "@zkguest/protocol";
import * as t from "io-ts";
import { GUEST_SCRIPT } from "./engine/engine.js";
import { cutGuestText } from "./guest-text.js";
import { Lru } from "./lru.js";
import type { LogRecord, RunError, RunReport } from "./report.js";

/**
 * Source maps of JS guests (artifact.ts carries one; `zkguest build` makes it with esbuild): how
 * the host turns the frames of a failure's stack, `at ft (guest.js:1:16658)`, into the
 * controller's own `at ft (src/controller.ts:5:11)`, in the report its integrator and the CLI
 * see. The guest never sees a mapped stack (its entrypoint is told the witness step's failure
 * with its own frames, as they are).
 *
 * A map is untrusted like the rest of its artifact: its size is checked when the artifact is
 * read (MAX_SOURCE_MAP_BYTES), and it is decoded only when a stack needs it, which the run's fast
 * path never does. A map that is not one (not JSON, another version, an index map, garbage in
 * its mappings) or that points nowhere leaves the stack as it was: a bad map never fails a run.
 * Reading it is @jridgewell/trace-mapping's (what Node's and Babel's tooling use), rather than a
 * VLQ decoder of our own.
 */

/**
 * The largest source map an artifact carries. Decoding one takes time and memory linear in its
 * size (about 40 ms and 40 MiB for the largest, on the bench machine); esbuild's map of a guest
 * without sourcesContent is about twice its minified code.
 */
export const MAX_SOURCE_MAP_BYTES = 8 * 1024 * 1024;

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

/** `at name (guest.js:LINE:COLUMN)` or `at guest.js:LINE:COLUMN`, as QuickJS writes a frame in the guest's script. */
const GUEST_FRAME = new RegExp(`^(\\s*at (?:.*\\()?)${GUEST_SCRIPT.replace(".", "\\.")}:(\\d+):(\\d+)(\\)?\\s*)$`);

/** One guest's source map, decoded. */
export class GuestSourceMap {
  private constructor(private readonly map: TraceMap) {}

  /** The map in `bytes` (UTF-8 JSON), or undefined when they are not a source map of version 3. */
  static read(bytes: Uint8Array): GuestSourceMap | undefined {
    try {
      const json: unknown = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
      if (!SourceMapC.is(json)) return undefined;
      return new GuestSourceMap(new TraceMap(json));
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
      const source = at.source === null ? undefined : shownSource(at.source);
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

/**
 * The host's decoded source maps, by program id, for the stacks of its failed runs: a program
 * that keeps failing pays for decoding once while its map stays in the cache (maps weighed by
 * their size in the artifact; a map that is not one is remembered as such).
 */
export class SourceMapCache {
  private readonly decoded: Lru<string, { map: GuestSourceMap | undefined; bytes: number }>;

  constructor(capacityBytes: number) {
    this.decoded = new Lru(capacityBytes, undefined, (entry) => entry.bytes);
  }

  /** The report with the stacks of its error and logs mapped by the program's source map, if it has one. */
  mapReport(report: RunReport, sourceMap: Uint8Array | undefined): RunReport {
    const { error, logs } = report;
    if (sourceMap === undefined || (error?.stack === undefined && !logs.some((l) => l.stack !== undefined))) return report;
    const map = this.map(report.program, sourceMap);
    if (map === undefined) return report;
    const mapped = <T extends RunError | LogRecord>(x: T): T => (x.stack === undefined ? x : { ...x, stack: map.mapStack(x.stack) });
    return { ...report, ...(error === undefined ? {} : { error: mapped(error) }), logs: logs.map(mapped) };
  }

  private map(programId: string, sourceMap: Uint8Array): GuestSourceMap | undefined {
    let entry = this.decoded.get(programId);
    if (entry === undefined) {
      entry = { map: GuestSourceMap.read(sourceMap), bytes: sourceMap.length };
      this.decoded.set(programId, entry);
    }
    return entry.map;
  }
}
