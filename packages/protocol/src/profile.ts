import { either as E } from "fp-ts";
import { failure, type Failure } from "./errors.js";

/**
 * The strict MessagePack profile of SPEC.md §3, checked in one pass over the bytes before they
 * are decoded. @msgpack/msgpack is lenient where the protocol must not be: it lets a later
 * duplicate key win, rounds 64-bit integers, replaces invalid UTF-8 and passes ext values
 * through. This scan refuses all of those, bounds nesting and every declared length by the
 * bytes that are really there, so the decoder after it never allocates by a claimed size.
 */

/** A key path from the frame's root to a float, e.g. ["body", "args", "x"] or ["body", "logs", 0]. */
export type FloatPath = readonly (string | number)[];

export interface ProfileScan {
  /** Where floats occur, so the caller can refuse those outside Value fields. Empty when none. */
  readonly floatPaths: readonly FloatPath[];
}

const SMALL_MAP_KEYS = 16;

/**
 * The scan's state, kept in arrays reused across calls (the scan is synchronous and never
 * re-entered) so that checking a frame allocates nothing. Per open container, by depth:
 * items still to read (maps count keys and values), items in all, whether it is a map, where
 * its keys start in `keyRanges`, and the key whose value is being read.
 */
class ScanState {
  remaining: Int32Array;
  total: Int32Array;
  isMap: Uint8Array;
  keyBase: Int32Array;
  lastKeyStart: Int32Array;
  lastKeyLength: Int32Array;
  /** For maps past SMALL_MAP_KEYS keys: their keys as latin1 strings (byte-exact), for O(1) duplicate checks. */
  keySets: (Set<string> | undefined)[] = [];
  /**
   * (start, length) of each key read so far in the small maps that are open, `keyEnd` entries in
   * use. A small map holds at most SMALL_MAP_KEYS keys here, so capacity * SMALL_MAP_KEYS pairs
   * always suffice.
   */
  keyRanges: Int32Array;
  keyEnd = 0;

  constructor(readonly capacity: number) {
    this.remaining = new Int32Array(capacity);
    this.total = new Int32Array(capacity);
    this.isMap = new Uint8Array(capacity);
    this.keyBase = new Int32Array(capacity);
    this.lastKeyStart = new Int32Array(capacity);
    this.lastKeyLength = new Int32Array(capacity);
    this.keyRanges = new Int32Array(capacity * (SMALL_MAP_KEYS + 1) * 2);
  }
}

let shared = new ScanState(64);

class Reject {
  constructor(readonly failure: Failure) {}
}

function malformed(at: number, why: string): Reject {
  return new Reject(failure("malformed_frame", `byte ${at}: ${why}`));
}

/** Checks `bytes[start, end)` is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF). */
export function isValidUtf8(bytes: Uint8Array, start = 0, end = bytes.length): boolean {
  let i = start;
  while (i < end) {
    const b0 = bytes[i]!;
    if (b0 < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    let cp: number;
    if (b0 >= 0xc2 && b0 <= 0xdf) [need, min, cp] = [1, 0x80, b0 & 0x1f];
    else if (b0 >= 0xe0 && b0 <= 0xef) [need, min, cp] = [2, 0x800, b0 & 0x0f];
    else if (b0 >= 0xf0 && b0 <= 0xf4) [need, min, cp] = [3, 0x10000, b0 & 0x07];
    else return false;
    if (i + need >= end) return false;
    for (let k = 1; k <= need; k++) {
      const b = bytes[i + k]!;
      if ((b & 0xc0) !== 0x80) return false;
      cp = (cp << 6) | (b & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += need + 1;
  }
  return true;
}

// Big-endian reads by hand: a DataView per frame costs more than the whole scan of a small one.
function u16(bytes: Uint8Array, at: number): number {
  return (bytes[at]! << 8) | bytes[at + 1]!;
}

function u32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) >>> 0) + ((bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!);
}

function latin1(bytes: Uint8Array, start: number, len: number): string {
  let s = "";
  for (let i = start; i < start + len; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

function sameBytes(bytes: Uint8Array, a: number, aLen: number, b: number, bLen: number): boolean {
  if (aLen !== bLen) return false;
  for (let i = 0; i < aLen; i++) if (bytes[a + i] !== bytes[b + i]) return false;
  return true;
}

/** Scans one whole frame; `bytes` must hold exactly one MessagePack value. */
export function scanProfile(bytes: Uint8Array, maxDepth: number): E.Either<Failure, ProfileScan> {
  try {
    return E.right(scan(bytes, maxDepth));
  } catch (e) {
    if (e instanceof Reject) return E.left(e.failure);
    throw e;
  }
}

function scan(bytes: Uint8Array, maxDepth: number): ProfileScan {
  if (shared.capacity < maxDepth) shared = new ScanState(maxDepth);
  const st = shared;
  st.keyEnd = 0;
  const end = bytes.length;
  let floatPaths: FloatPath[] | undefined;
  let depth = 0;
  let pos = 0;

  // No closures over `pos` here: a captured variable lives in a heap context, and this loop
  // updates it for every byte of every frame.
  const need = (n: number, at: number, what: string) => {
    if (n > end - at) throw malformed(at, `${what} needs ${n} bytes, ${end - at} remain (truncated frame)`);
  };

  for (;;) {
    if (pos >= end) throw malformed(pos, "truncated frame: a value is missing");
    const top = depth - 1;
    const isKey = top >= 0 && st.isMap[top] === 1 && ((st.total[top]! - st.remaining[top]!) & 1) === 0;
    const at = pos;
    const b = bytes[pos++]!;
    let strLen = -1;
    let childCount = -1;
    let childIsMap = false;

    if (b <= 0x7f || b >= 0xe0) {
      // fixint
    } else if (b <= 0x8f) {
      childCount = b & 0x0f;
      childIsMap = true;
    } else if (b <= 0x9f) {
      childCount = b & 0x0f;
    } else if (b <= 0xbf) {
      strLen = b & 0x1f;
    } else {
      switch (b) {
        case 0xc0:
        case 0xc2:
        case 0xc3:
          break;
        case 0xc1:
          throw malformed(at, "0xc1 is never used in MessagePack");
        case 0xc4:
        case 0xc5:
        case 0xc6: {
          const w = b === 0xc4 ? 1 : b === 0xc5 ? 2 : 4;
          need(w, pos, "bin length");
          const len = w === 1 ? bytes[pos]! : w === 2 ? u16(bytes, pos) : u32(bytes, pos);
          pos += w;
          need(len, pos, "bin");
          pos += len;
          break;
        }
        case 0xc7:
        case 0xc8:
        case 0xc9:
        case 0xd4:
        case 0xd5:
        case 0xd6:
        case 0xd7:
        case 0xd8:
          throw malformed(at, "ext types are not allowed (bytes are bin)");
        case 0xca:
        case 0xcb:
          need(b === 0xca ? 4 : 8, pos, "float");
          pos += b === 0xca ? 4 : 8;
          // The path is reported, not refused here: only the schema knows where floats may be.
          (floatPaths ??= []).push(currentPath(st, depth, bytes));
          break;
        case 0xcc:
        case 0xd0:
          need(1, pos, "int8");
          pos += 1;
          break;
        case 0xcd:
        case 0xd1:
          need(2, pos, "int16");
          pos += 2;
          break;
        case 0xce:
        case 0xd2:
          need(4, pos, "int32");
          pos += 4;
          break;
        case 0xcf:
          need(8, pos, "uint64");
          // 2^53-1 is the largest integer every peer holds exactly; its high 32 bits are 0x1fffff.
          if (u32(bytes, pos) > 0x1fffff) throw malformed(at, "integer larger than 2^53-1");
          pos += 8;
          break;
        case 0xd3: {
          need(8, pos, "int64");
          const high = u32(bytes, pos) | 0;
          const isMinus2p53 = high === -0x200000 && u32(bytes, pos + 4) === 0;
          if (high > 0x1fffff || high < -0x200000 || isMinus2p53) throw malformed(at, "integer outside -(2^53-1) .. 2^53-1");
          pos += 8;
          break;
        }
        case 0xd9:
          need(1, pos, "str length");
          strLen = bytes[pos]!;
          pos += 1;
          break;
        case 0xda:
          need(2, pos, "str length");
          strLen = u16(bytes, pos);
          pos += 2;
          break;
        case 0xdb:
          need(4, pos, "str length");
          strLen = u32(bytes, pos);
          pos += 4;
          break;
        case 0xdc:
        case 0xde:
          need(2, pos, "length");
          childCount = u16(bytes, pos);
          pos += 2;
          childIsMap = b === 0xde;
          break;
        case 0xdd:
        case 0xdf:
          need(4, pos, "length");
          childCount = u32(bytes, pos);
          pos += 4;
          childIsMap = b === 0xdf;
          break;
      }
    }

    if (isKey && strLen < 0) throw malformed(at, "map keys must be strings");
    if (strLen >= 0) {
      need(strLen, pos, "str");
      if (!isValidUtf8(bytes, pos, pos + strLen)) throw malformed(at, "str is not valid UTF-8");
      if (isKey) checkNewKey(st, top, bytes, at, pos, strLen);
      pos += strLen;
    }

    if (top >= 0) st.remaining[top]!--;
    if (childCount > 0) {
      const items = childIsMap ? childCount * 2 : childCount;
      // Every item takes at least one byte: a larger count is a lie about the bytes that follow.
      if (items > end - pos) throw malformed(at, `${childIsMap ? "map" : "array"} declares ${childCount} entries but only ${end - pos} bytes remain`);
      if (depth + 1 > maxDepth) throw malformed(at, `containers nested deeper than ${maxDepth} levels`);
      st.remaining[depth] = items;
      st.total[depth] = items;
      st.isMap[depth] = childIsMap ? 1 : 0;
      st.keyBase[depth] = st.keyEnd;
      st.keySets[depth] = undefined;
      depth++;
      continue;
    }
    if (childCount === 0 && depth + 1 > maxDepth) throw malformed(at, `containers nested deeper than ${maxDepth} levels`);
    // Close every container this value completed.
    while (depth > 0 && st.remaining[depth - 1] === 0) {
      depth--;
      st.keyEnd = st.keyBase[depth]!;
      st.keySets[depth] = undefined;
    }
    if (depth === 0) break;
  }
  if (pos !== end) throw malformed(pos, `${end - pos} trailing bytes after the frame`);
  return { floatPaths: floatPaths ?? NO_FLOATS };
}

const NO_FLOATS: readonly FloatPath[] = [];

/** Where the value being read sits, for reporting a float (rare, so not optimized). */
function currentPath(st: ScanState, depth: number, bytes: Uint8Array): FloatPath {
  const path: (string | number)[] = [];
  for (let d = 0; d < depth; d++) {
    // Outer levels have already counted the item being read; the innermost has not yet.
    const index = st.total[d]! - st.remaining[d]! - (d < depth - 1 ? 1 : 0);
    path.push(st.isMap[d] ? latin1(bytes, st.lastKeyStart[d]!, st.lastKeyLength[d]!) : index);
  }
  return path;
}

const PROTO_KEY = [0x5f, 0x5f, 0x70, 0x72, 0x6f, 0x74, 0x6f, 0x5f, 0x5f]; // "__proto__"

function checkNewKey(st: ScanState, level: number, bytes: Uint8Array, at: number, start: number, len: number): void {
  // JavaScript peers cannot hold this key in a plain object safely (prototype pollution).
  if (len === PROTO_KEY.length && PROTO_KEY.every((b, i) => bytes[start + i] === b)) throw malformed(at, "the map key '__proto__' is refused");
  st.lastKeyStart[level] = start;
  st.lastKeyLength[level] = len;
  let set = st.keySets[level];
  if (!set) {
    const keys = st.keyRanges;
    const base = st.keyBase[level]!;
    for (let i = base; i < st.keyEnd; i += 2) {
      if (sameBytes(bytes, keys[i]!, keys[i + 1]!, start, len)) throw malformed(at, `duplicate map key '${latin1(bytes, start, len)}'`);
    }
    if ((st.keyEnd - base) / 2 < SMALL_MAP_KEYS) {
      keys[st.keyEnd++] = start;
      keys[st.keyEnd++] = len;
      return;
    }
    // A large map: switch to a set, so a frame full of keys cannot make this scan quadratic.
    set = new Set();
    for (let i = base; i < st.keyEnd; i += 2) set.add(latin1(bytes, keys[i]!, keys[i + 1]!));
    st.keyEnd = base;
    st.keySets[level] = set;
  }
  const key = latin1(bytes, start, len);
  if (set.has(key)) throw malformed(at, `duplicate map key '${key}'`);
  set.add(key);
}
