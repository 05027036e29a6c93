import { MAX_FRAME_DEPTH } from "../frame-defaults.js";
import { readUtf8 } from "./utf8.js";

/**
 * Reads one MessagePack value under the strict profile of SPEC.md §3.3, in one pass: exactly
 * one value and nothing after it; no 0xc1, no ext types; declared lengths and counts bounded
 * by the bytes that remain (so nothing is allocated by a claimed size); containers at most 32
 * deep; map keys are strings, each once, never `__proto__`; strings valid UTF-8; integers within ±(2^53-1); floats
 * finite. Where floats occur is recorded, so the caller can refuse those outside Value fields.
 * Bytes come back as copies, so values never alias the frame.
 *
 * Plain functions over module state, like writer.ts (no user code runs while reading).
 */

/** A key path from the frame's root to a float, cut to its first 4 steps (enough to name any Value field). */
export type FloatPath = (string | number)[];

export type ReadResult = { ok: true; value: unknown; floats: FloatPath[] } | { ok: false; why: string };

class Malformed {
  constructor(readonly why: string) {}
}

const NOTHING = new Uint8Array(0);
let bytes: Uint8Array = NOTHING;
/** A DataView of `bytes`, made only when a frame holds numbers that need one (making it costs more than reading most frames). */
let view: DataView | undefined;
let pos = 0;
/**
 * path[i] is the key or index being read in the container at nesting level i + 1. Kept from
 * frame to frame: a float at level L reads path[0..L-1], which this frame has written by then.
 */
const path: (string | number)[] = [];
/** Where floats were found; a fresh array only once a frame has one. */
const NO_FLOATS: FloatPath[] = [];
let floats: FloatPath[] = NO_FLOATS;

function fail(why: string): never {
  throw new Malformed(`byte ${pos}: ${why}`);
}

const left = () => bytes.length - pos;

/** Consumes `n` bytes and returns where they start. */
function take(n: number): number {
  if (n > left()) fail(`${n} bytes needed, ${left()} remain (truncated frame)`);
  return (pos += n) - n;
}

/** A big-endian unsigned integer of 1, 2 or 4 bytes. */
function uint(width: number): number {
  const at = take(width);
  if (width === 1) return bytes[at]!;
  if (width === 2) return (bytes[at]! << 8) | bytes[at + 1]!;
  return bytes[at]! * 0x1000000 + ((bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!);
}

function dataView(): DataView {
  return (view ??= new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

/** Reads the value at `pos`; `level` is how many containers enclose it. */
function read(level: number): unknown {
  const b = bytes[take(1)]!;
  if (b < 0x80) return b;
  if (b >= 0xe0) return b - 0x100;
  if (b < 0x90) return readMap(b & 0x0f, level);
  if (b < 0xa0) return readArray(b & 0x0f, level);
  if (b < 0xc0) return readStr(b & 0x1f);
  if (b === 0xc0) return null;
  if (b === 0xc2 || b === 0xc3) return b === 0xc3;
  if (b >= 0xc4 && b <= 0xc6) {
    const n = uint(1 << (b - 0xc4));
    const at = take(n);
    return bytes.slice(at, at + n);
  }
  if (b === 0xca || b === 0xcb) {
    const f = b === 0xca ? dataView().getFloat32(take(4)) : dataView().getFloat64(take(8));
    if (!Number.isFinite(f)) fail("numbers must be finite");
    if (floats === NO_FLOATS) floats = [];
    floats.push(path.slice(0, Math.min(level, 4)));
    return f;
  }
  if (b >= 0xcc && b <= 0xce) return uint(1 << (b - 0xcc));
  if (b === 0xcf || b === 0xd3) {
    // Exact inside ±(2^53-1); anything outside rounds to a magnitude of at least 2^53.
    const at = take(8);
    const n = (b === 0xcf ? dataView().getUint32(at) : dataView().getInt32(at)) * 0x100000000 + dataView().getUint32(at + 4);
    return Number.isSafeInteger(n) ? n : fail("integer outside ±(2^53-1)");
  }
  if (b === 0xd0) return dataView().getInt8(take(1));
  if (b === 0xd1) return dataView().getInt16(take(2));
  if (b === 0xd2) return dataView().getInt32(take(4));
  if (b >= 0xd9 && b <= 0xdb) return readStr(uint(1 << (b - 0xd9)));
  if (b === 0xdc || b === 0xdd) return readArray(uint(b === 0xdc ? 2 : 4), level);
  if (b === 0xde || b === 0xdf) return readMap(uint(b === 0xde ? 2 : 4), level);
  return fail(b === 0xc1 ? "0xc1 is never used in MessagePack" : "ext types are not allowed (bytes are bin)");
}

function readStr(n: number): string {
  const at = take(n);
  return readUtf8(bytes, at, at + n) ?? fail("str is not valid UTF-8");
}

/**
 * Map keys read before, by their bytes: a frame's keys are nearly always the protocol's few
 * dozen names, and comparing a key's bytes with a known string costs less than building the
 * string. Only short ASCII keys are kept, and at most KEY_CACHE_MAX of them, so that frames of
 * made-up keys cannot grow it (past that, keys are read without the cache).
 */
const KEY_CACHE_MAX = 512;
const KEY_MAX_BYTES = 24;
const keyCache = new Map<number, string[]>();
let keyCacheSize = 0;

function keyHash(at: number, n: number): number {
  let h = n;
  for (let i = at; i < at + n; i++) h = (Math.imul(h, 31) + bytes[i]!) | 0;
  return h;
}

/** A fixstr key of `n` bytes at `pos`. */
function readKey(n: number): string {
  if (n > KEY_MAX_BYTES) return readStr(n);
  const at = take(n);
  const h = keyHash(at, n);
  const known = keyCache.get(h);
  if (known !== undefined) {
    for (const key of known) {
      if (key.length !== n) continue;
      let i = 0;
      while (i < n && key.charCodeAt(i) === bytes[at + i]) i++;
      if (i === n) return key;
    }
  }
  const key = readUtf8(bytes, at, at + n) ?? fail("str is not valid UTF-8");
  if (key.length === n && keyCacheSize < KEY_CACHE_MAX) {
    // As many characters as bytes: ASCII, so the comparison above is exact.
    if (known === undefined) keyCache.set(h, [key]);
    else known.push(key);
    keyCacheSize++;
  }
  return key;
}

function enter(items: number, level: number): void {
  // Every item takes at least one byte: a larger count is a lie about the bytes that follow.
  if (items > left()) fail(`a container declares ${items} items but ${left()} bytes remain`);
  if (level >= MAX_FRAME_DEPTH) fail(`containers nested deeper than ${MAX_FRAME_DEPTH} levels`);
}

function readArray(n: number, level: number): unknown[] {
  enter(n, level);
  const out = [];
  for (let i = 0; i < n; i++) {
    path[level] = i;
    out.push(read(level + 1));
  }
  return out;
}

function readMap(n: number, level: number): Record<string, unknown> {
  enter(n * 2, level);
  const out: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) {
    const b = bytes[pos]!;
    let key: string;
    if (b >= 0xa0 && b < 0xc0) {
      pos++;
      key = readKey(b & 0x1f);
    } else if (b >= 0xd9 && b <= 0xdb) key = read(level) as string;
    else fail("map keys must be strings");
    // JavaScript objects cannot hold __proto__ as a plain key (SPEC.md §3.3).
    if (key === "__proto__") fail("the map key '__proto__' is refused");
    if (Object.prototype.hasOwnProperty.call(out, key)) fail(`duplicate map key '${key}'`);
    path[level] = key;
    out[key] = read(level + 1);
  }
  return out;
}

/** Reads one whole frame's bytes; never throws. */
export function readMessagePack(frame: Uint8Array): ReadResult {
  bytes = frame;
  view = undefined;
  pos = 0;
  floats = NO_FLOATS;
  try {
    const value = read(0);
    if (left()) fail(`${left()} trailing bytes after the frame`);
    return { ok: true, value, floats };
  } catch (e) {
    if (e instanceof Malformed) return { ok: false, why: e.why };
    throw e;
  } finally {
    bytes = NOTHING;
    view = undefined;
  }
}
