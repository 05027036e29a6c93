// UTF-8 without TextEncoder/TextDecoder, which QuickJS does not have.

/** The number of bytes `s` takes in UTF-8 (as writeUtf8 writes it). */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      // A surrogate pair: 2 units, 4 bytes.
      n += 2;
      i++;
    } else n += 2;
  }
  return n;
}

/**
 * Writes `s` as UTF-8 into `out` at `pos` and returns the position after it. `out` must have
 * room for utf8Length(s) bytes. A lone surrogate becomes
 * U+FFFD, as TextEncoder does, so the bytes are always valid UTF-8.
 */
export function writeUtf8(s: string, out: Uint8Array, pos: number): number {
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      out[pos++] = c;
    } else if (c < 0x800) {
      out[pos++] = 0xc0 | (c >> 6);
      out[pos++] = 0x80 | (c & 0x3f);
    } else {
      if (c >= 0xd800 && c <= 0xdfff) {
        const next = s.charCodeAt(i + 1);
        if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
          i++;
          out[pos++] = 0xf0 | (c >> 18);
          out[pos++] = 0x80 | ((c >> 12) & 0x3f);
          out[pos++] = 0x80 | ((c >> 6) & 0x3f);
          out[pos++] = 0x80 | (c & 0x3f);
          continue;
        }
        c = 0xfffd;
      }
      out[pos++] = 0xe0 | (c >> 12);
      out[pos++] = 0x80 | ((c >> 6) & 0x3f);
      out[pos++] = 0x80 | (c & 0x3f);
    }
  }
  return pos;
}

/** The UTF-8 bytes of a string (what TextEncoder.encode gives). */
export function encodeUtf8(s: string): Uint8Array {
  const out = new Uint8Array(s.length * 3);
  return out.slice(0, writeUtf8(s, out, 0));
}

/**
 * Reads `bytes[start, end)` as strict UTF-8: undefined when the bytes are not valid UTF-8
 * (overlong forms, surrogates, code points past U+10FFFF, truncated sequences).
 */
export function readUtf8(bytes: Uint8Array, start: number, end: number): string | undefined {
  // Most strings in a frame are short and ASCII (keys, kinds, names): build those directly.
  if (end - start <= 64) {
    let ascii = "";
    for (let i = start; i < end; i++) {
      const c = bytes[i]!;
      if (c >= 0x80) return readUtf8Units(bytes, start, end);
      ascii += String.fromCharCode(c);
    }
    return ascii;
  }
  return readUtf8Units(bytes, start, end);
}

function readUtf8Units(bytes: Uint8Array, start: number, end: number): string | undefined {
  let s = "";
  let units: number[] = [];
  let i = start;
  while (i < end) {
    let c = bytes[i++]!;
    if (c >= 0x80) {
      let need: number;
      let min: number;
      if (c >= 0xc2 && c <= 0xdf) [need, min, c] = [1, 0x80, c & 0x1f];
      else if (c >= 0xe0 && c <= 0xef) [need, min, c] = [2, 0x800, c & 0x0f];
      else if (c >= 0xf0 && c <= 0xf4) [need, min, c] = [3, 0x10000, c & 0x07];
      else return undefined;
      if (i + need > end) return undefined;
      while (need--) {
        const b = bytes[i++]!;
        if ((b & 0xc0) !== 0x80) return undefined;
        c = (c << 6) | (b & 0x3f);
      }
      if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return undefined;
      if (c > 0xffff) {
        c -= 0x10000;
        units.push(0xd800 + (c >> 10));
        c = 0xdc00 + (c & 0x3ff);
      }
    }
    units.push(c);
    // fromCharCode takes its arguments on the stack: build long strings in pieces.
    if (units.length >= 4096) {
      s += String.fromCharCode.apply(null, units);
      units = [];
    }
  }
  return s + String.fromCharCode.apply(null, units);
}

/** The text in UTF-8 bytes (what TextDecoder.decode gives, but strict: invalid bytes throw a TypeError). */
export function decodeUtf8(bytes: Uint8Array): string {
  const s = readUtf8(bytes, 0, bytes.length);
  if (s === undefined) throw new TypeError("not valid UTF-8");
  return s;
}
