/**
 * A first pass over MessagePack input whose shape is known to be small (an artifact file's
 * envelope, a dev proof), before readMessagePack builds it: the input is walked without
 * building anything, and refused at the first header that breaks tighter bounds than a frame's
 * (nesting, items, string length). What passes is read in time and memory linear in its size,
 * whatever it is; what does not (a million nested arrays, a flat array of millions of items, a
 * 60 MB string) costs a few bytes of reading. Host side only: guest bundles never import it.
 */

export interface ScanBounds {
  /** Containers nested at most this deep. */
  readonly maxDepth: number;
  /** Items of all containers together, a map entry counting two. */
  readonly maxItems: number;
  /** Bytes of one str. */
  readonly maxStrBytes: number;
}

class OutOfBounds {
  constructor(readonly why: string) {}
}

/** Bytes after the header of the fixed-size types: nil, bool, float 32/64, uint 8..64, int 8..64. */
const FIXED: Readonly<Record<number, number>> = { 0xc0: 0, 0xc2: 0, 0xc3: 0, 0xca: 4, 0xcb: 8, 0xcc: 1, 0xcd: 2, 0xce: 4, 0xcf: 8, 0xd0: 1, 0xd1: 2, 0xd2: 4, 0xd3: 8 };

/**
 * Checks one MessagePack value (and nothing after it) against `bounds`; gives why it breaks
 * them (`byte N: ...`), or undefined. Types outside the strict profile (ext, 0xc1) are refused
 * here too, so that nothing is built before the reader would refuse them.
 */
export function scanMessagePack(bytes: Uint8Array, bounds: ScanBounds): string | undefined {
  let pos = 0;
  let items = 0;
  const fail = (why: string): never => {
    throw new OutOfBounds(`byte ${pos}: ${why}`);
  };
  const skip = (n: number) => {
    if (n > bytes.length - pos) fail(`${n} bytes needed, ${bytes.length - pos} remain (truncated)`);
    pos += n;
  };
  const length = (width: number): number => {
    const at = pos;
    skip(width);
    let n = 0;
    for (let i = at; i < pos; i++) n = n * 256 + bytes[i]!;
    return n;
  };
  const value = (level: number): void => {
    const at = pos;
    skip(1);
    const b = bytes[at]!;
    if (b < 0x80 || b >= 0xe0) return;
    const map = b < 0x90 || b === 0xde || b === 0xdf;
    if (b < 0xa0 || (b >= 0xdc && b <= 0xdf)) {
      const n = (b < 0xa0 ? b & 0x0f : length(b === 0xdc || b === 0xde ? 2 : 4)) * (map ? 2 : 1);
      if (level >= bounds.maxDepth) fail(`containers nested deeper than ${bounds.maxDepth} levels`);
      if ((items += n) > bounds.maxItems) fail(`more than ${bounds.maxItems} items in all containers together`);
      for (let i = 0; i < n; i++) value(level + 1);
      return;
    }
    if (b < 0xc0 || (b >= 0xd9 && b <= 0xdb)) {
      const n = b < 0xc0 ? b & 0x1f : length(1 << (b - 0xd9));
      if (n > bounds.maxStrBytes) fail(`a str of ${n} bytes, more than ${bounds.maxStrBytes}`);
      return skip(n);
    }
    if (b >= 0xc4 && b <= 0xc6) return skip(length(1 << (b - 0xc4)));
    const fixed = FIXED[b];
    if (fixed === undefined) fail(`type 0x${b.toString(16)} is not in the strict profile`);
    skip(fixed!);
  };
  try {
    value(0);
    if (pos < bytes.length) fail(`${bytes.length - pos} trailing bytes`);
    return undefined;
  } catch (e) {
    if (e instanceof OutOfBounds) return e.why;
    throw e;
  }
}
