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

interface Container {
  readonly isMap: boolean;
  /** Items (for maps: keys and values) still to read. */
  remaining: number;
  readonly total: number;
  /** For small maps: the byte ranges (start, length) of the keys read so far, to refuse duplicates. */
  readonly keys: number[];
  /** For maps past SMALL_MAP_KEYS keys: the keys as latin1 strings (byte-exact), for O(1) duplicate checks. */
  keySet?: Set<string>;
  /** The key whose value is being read, to name the field a float sits in. */
  lastKeyStart: number;
  lastKeyLength: number;
}

const SMALL_MAP_KEYS = 16;

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
  const end = bytes.length;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: Container[] = [];
  const floatPaths: FloatPath[] = [];
  let pos = 0;

  const need = (n: number, what: string) => {
    if (n > end - pos) throw malformed(pos, `${what} needs ${n} bytes, ${end - pos} remain (truncated frame)`);
  };

  /** Where the value being read sits, for reporting floats. */
  const currentPath = (): FloatPath =>
    stack.map((c) => {
      if (!c.isMap) return c.total - c.remaining - 1;
      return latin1(bytes, c.lastKeyStart, c.lastKeyLength);
    });

  let done = false;
  while (!done) {
    if (pos >= end) throw malformed(pos, "truncated frame: a value is missing");
    const top = stack[stack.length - 1];
    const isKey = top !== undefined && top.isMap && (top.total - top.remaining) % 2 === 0;
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
          need(w, "bin length");
          const len = w === 1 ? view.getUint8(pos) : w === 2 ? view.getUint16(pos) : view.getUint32(pos);
          pos += w;
          need(len, "bin");
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
          need(4, "float32");
          pos += 4;
          floatPaths.push(currentPath());
          break;
        case 0xcb:
          need(8, "float64");
          pos += 8;
          floatPaths.push(currentPath());
          break;
        case 0xcc:
          need(1, "uint8");
          pos += 1;
          break;
        case 0xcd:
          need(2, "uint16");
          pos += 2;
          break;
        case 0xce:
          need(4, "uint32");
          pos += 4;
          break;
        case 0xcf:
          need(8, "uint64");
          // 2^53-1 is the largest integer every peer holds exactly; its high 32 bits are 0x1fffff.
          if (view.getUint32(pos) > 0x1fffff) throw malformed(at, "integer larger than 2^53-1");
          pos += 8;
          break;
        case 0xd0:
          need(1, "int8");
          pos += 1;
          break;
        case 0xd1:
          need(2, "int16");
          pos += 2;
          break;
        case 0xd2:
          need(4, "int32");
          pos += 4;
          break;
        case 0xd3: {
          need(8, "int64");
          const high = view.getInt32(pos);
          const isMinus2p53 = high === -0x200000 && view.getUint32(pos + 4) === 0;
          if (high > 0x1fffff || high < -0x200000 || isMinus2p53) throw malformed(at, "integer outside -(2^53-1) .. 2^53-1");
          pos += 8;
          break;
        }
        case 0xd9:
          need(1, "str length");
          strLen = view.getUint8(pos);
          pos += 1;
          break;
        case 0xda:
          need(2, "str length");
          strLen = view.getUint16(pos);
          pos += 2;
          break;
        case 0xdb:
          need(4, "str length");
          strLen = view.getUint32(pos);
          pos += 4;
          break;
        case 0xdc:
          need(2, "array length");
          childCount = view.getUint16(pos);
          pos += 2;
          break;
        case 0xdd:
          need(4, "array length");
          childCount = view.getUint32(pos);
          pos += 4;
          break;
        case 0xde:
          need(2, "map length");
          childCount = view.getUint16(pos);
          pos += 2;
          childIsMap = true;
          break;
        case 0xdf:
          need(4, "map length");
          childCount = view.getUint32(pos);
          pos += 4;
          childIsMap = true;
          break;
      }
    }

    if (isKey && strLen < 0) throw malformed(at, "map keys must be strings");
    if (strLen >= 0) {
      need(strLen, "str");
      if (!isValidUtf8(bytes, pos, pos + strLen)) throw malformed(at, "str is not valid UTF-8");
      if (isKey) checkNewKey(top!, bytes, at, pos, strLen);
      pos += strLen;
    }

    if (top) top.remaining--;
    if (childCount >= 0) {
      const items = childIsMap ? childCount * 2 : childCount;
      // Every item takes at least one byte: a larger count is a lie about the bytes that follow.
      if (items > end - pos) throw malformed(at, `${childIsMap ? "map" : "array"} declares ${childCount} entries but only ${end - pos} bytes remain`);
      if (stack.length + 1 > maxDepth) throw malformed(at, `containers nested deeper than ${maxDepth} levels`);
      if (items > 0) {
        stack.push({ isMap: childIsMap, remaining: items, total: items, keys: [], lastKeyStart: 0, lastKeyLength: 0 });
        continue;
      }
    }
    // Close every container this value completed.
    while (stack.length && stack[stack.length - 1]!.remaining === 0) stack.pop();
    if (stack.length === 0) done = true;
  }
  if (pos !== end) throw malformed(pos, `${end - pos} trailing bytes after the frame`);
  return { floatPaths };
}

const PROTO_KEY = [0x5f, 0x5f, 0x70, 0x72, 0x6f, 0x74, 0x6f, 0x5f, 0x5f]; // "__proto__"

function checkNewKey(map: Container, bytes: Uint8Array, at: number, start: number, len: number): void {
  // JavaScript peers cannot hold this key in a plain object safely (prototype pollution).
  if (len === PROTO_KEY.length && PROTO_KEY.every((b, i) => bytes[start + i] === b)) throw malformed(at, "the map key '__proto__' is refused");
  map.lastKeyStart = start;
  map.lastKeyLength = len;
  if (!map.keySet) {
    const keys = map.keys;
    for (let i = 0; i < keys.length; i += 2) {
      if (sameBytes(bytes, keys[i]!, keys[i + 1]!, start, len)) throw malformed(at, `duplicate map key '${latin1(bytes, start, len)}'`);
    }
    keys.push(start, len);
    if (keys.length / 2 <= SMALL_MAP_KEYS) return;
    // A large map: switch to a set, so a frame full of keys cannot make this scan quadratic.
    map.keySet = new Set();
    for (let i = 0; i < keys.length - 2; i += 2) map.keySet.add(latin1(bytes, keys[i]!, keys[i + 1]!));
    keys.length = 0;
  }
  const key = latin1(bytes, start, len);
  if (map.keySet.has(key)) throw malformed(at, `duplicate map key '${key}'`);
  map.keySet.add(key);
}
