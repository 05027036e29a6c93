import { readMessagePack } from "./reader.js";

/**
 * The request id of a frame the strict reader refused, when it "can be read" (SPEC.md §3.4):
 * the bytes are one complete MessagePack value (every length and count within the bytes, no
 * 0xc1, nothing after it), that value is a map, and it has exactly one key `id` holding an
 * integer 0 .. 2^32-1 (in any integer encoding, or as a float with that integral value). Faults
 * elsewhere inside the value (a duplicate key, an ext, invalid UTF-8, nesting, `__proto__`, an
 * integer out of range) do not hide the id. The walk keeps one counter of values still to step
 * over, so no frame can make it recurse or allocate.
 */
export function readableId(frame: Uint8Array): number | undefined {
  let pos = 0;
  /** A big-endian unsigned integer of `width` bytes at `pos` (NaN past the end). */
  const uint = (width: number): number => {
    let n = 0;
    for (let i = 0; i < width; i++) n = n * 256 + (frame[pos++] ?? NaN);
    return n;
  };
  /** Steps over `pending` values; false when the bytes end first or hold 0xc1. */
  const skip = (pending: number): boolean => {
    while (pending-- > 0) {
      const b = frame[pos++];
      let bytes = 0;
      if (b === undefined || b === 0xc1) return false;
      if (b >= 0x80 && b < 0x90) pending += 2 * (b & 0x0f);
      else if (b >= 0x90 && b < 0xa0) pending += b & 0x0f;
      else if (b >= 0xa0 && b < 0xc0) bytes = b & 0x1f;
      else if (b >= 0xc4 && b <= 0xc6) bytes = uint(1 << (b - 0xc4));
      else if (b >= 0xc7 && b <= 0xc9) bytes = uint(1 << (b - 0xc7)) + 1; // ext: its type byte follows the length
      else if (b >= 0xca && b <= 0xd3) bytes = [4, 8, 1, 2, 4, 8, 1, 2, 4, 8][b - 0xca]!;
      else if (b >= 0xd4 && b <= 0xd8) bytes = 1 + (1 << (b - 0xd4));
      else if (b >= 0xd9 && b <= 0xdb) bytes = uint(1 << (b - 0xd9));
      else if (b === 0xdc || b === 0xdd) pending += uint(b === 0xdc ? 2 : 4);
      else if (b === 0xde || b === 0xdf) pending += 2 * uint(b === 0xde ? 2 : 4);
      // Every value takes a byte at least: a count larger than the bytes left is a lie.
      if (!(bytes <= frame.length - pos && pending <= frame.length - pos)) return false;
      pos += bytes;
    }
    return true;
  };

  const head = frame[pos++];
  const entries = head !== undefined && head >= 0x80 && head < 0x90 ? head & 0x0f : head === 0xde ? uint(2) : head === 0xdf ? uint(4) : NaN;
  let id: number | undefined;
  let ids = 0;
  for (let i = 0; i < entries; i++) {
    const key = pos;
    if (!skip(1)) return undefined;
    const value = pos;
    if (!skip(1)) return undefined;
    const k = readMessagePack(frame.subarray(key, value));
    if (k.ok && k.value === "id") {
      ids++;
      const v = readMessagePack(frame.subarray(value, pos));
      id = v.ok && Number.isInteger(v.value) && (v.value as number) >= 0 && (v.value as number) <= 0xffffffff ? (v.value as number) : undefined;
    }
  }
  return pos === frame.length && ids === 1 ? id : undefined;
}
