import { MAX_FRAME_DEPTH } from "../frame-defaults.js";
import type { Version } from "../negotiate.js";
import { ZkguestError } from "../zkguest-error.js";
import { utf8Length, writeUtf8 } from "./utf8.js";

/**
 * Writes frames in the canonical MessagePack encoding of SPEC.md §3.2: smallest integer,
 * string, binary, array and map forms, float64 only for numbers that are not integers, map
 * keys in ascending byte order, no ext types. The guest SDK writes its bodies field by field in
 * canonical order, free-form Values (log fields) through `value`, which sorts keys; the host
 * side writes whole frames with `encodeFrame`.
 *
 * One frame is written at a time into a buffer that is reused (plain functions over module
 * state: this code is parsed at every cold start, and short names keep the bundle small).
 */

let buf = new Uint8Array(1024);
let view = new DataView(buf.buffer);
let pos = 0;
let writing = false;

/**
 * Writes one frame: the envelope, whose body has `bodyFields` fields written by `writeBody`
 * with the functions below, in canonical order. Returns the frame's bytes.
 */
export function writeFrame(kind: string, id: number, v: Version, bodyFields: number, writeBody: () => void): ArrayBuffer {
  return writeFrameBytes(kind, id, v, bodyFields, writeBody).buffer as ArrayBuffer;
}

/**
 * writeFrame's bytes as a Uint8Array of their own: on the host, V8 keeps a small typed array
 * on its heap until its `buffer` is asked for, which then costs more than the whole encoding.
 */
function writeFrameBytes(kind: string, id: number, v: Version, bodyFields: number, writeBody: () => void): Uint8Array {
  // A getter inside log fields could call the SDK while its frame is half written.
  if (writing) throw new ZkguestError("invalid_state", "a request was made while another one was being written");
  writing = true;
  pos = 0;
  try {
    map(4);
    name("body");
    map(bodyFields);
    writeBody();
    raw(ID_KEY);
    int(id);
    // The envelope after the id is the same for every frame of a kind: copied, encoded once.
    raw(tailOf(kind, v));
    return buf.slice(0, pos);
  } finally {
    writing = false;
    shrink();
  }
}

/** Does not keep a large buffer alive after a large frame. */
function shrink(): void {
  if (buf.length > 65536) {
    buf = new Uint8Array(1024);
    view = new DataView(buf.buffer);
  }
}

/** `kind: <kind>, v: [major, minor]`, the envelope after the id, per kind (for the version last used with it). */
const tails = new Map<string, { v: Version; bytes: Uint8Array }>();
function tailOf(kind: string, v: Version): Uint8Array {
  let tail = tails.get(kind);
  if (!tail || tail.v[0] !== v[0] || tail.v[1] !== v[1]) {
    const bytes = fragment(() => {
      name("kind");
      name(kind);
      name("v");
      array(2);
      int(v[0]);
      int(v[1]);
    });
    tail = { v: [v[0], v[1]], bytes };
    tails.set(kind, tail);
  }
  return tail.bytes;
}

/**
 * The encoded start of a frame: the envelope up to its body, and the body's first fields as
 * `writeStart` writes them. For frames sent often whose start never changes (a log's level
 * and the key of its message): keep it, and write the frames with writeFrameEndingIn.
 */
export function frameStart(bodyFields: number, writeStart: () => void): Uint8Array {
  return fragment(() => {
    map(4);
    name("body");
    map(bodyFields);
    writeStart();
  });
}

/**
 * Writes a frame whose body ends with the string `s`: `start` (from frameStart), the string,
 * then the id and the rest of the envelope. The same bytes as writeFrame with the same fields,
 * in a fraction of the steps: the log's path, the most frequent request, and inside QuickJS
 * every call and loop step costs. The string is encoded once, after room for the header of its
 * longest UTF-8 form (3 bytes per UTF-16 unit), and moved back if its own header is shorter.
 */
export function writeFrameEndingIn(start: Uint8Array, s: string, id: number, kind: string, v: Version): ArrayBuffer {
  if (writing) throw new ZkguestError("invalid_state", "a request was made while another one was being written");
  const tail = tailOf(kind, v);
  const most = s.length * 3;
  if (most < 32 && id < 0x80 && start.length + 1 + most + ID_KEY.length + 1 + tail.length <= buf.length) {
    // Nearly every log: a fixstr message and a fixint id, written straight into the buffer.
    buf.set(start);
    const end = writeUtf8(s, buf, start.length + 1);
    buf[start.length] = 0xa0 | (end - start.length - 1);
    buf.set(ID_KEY, end);
    buf[end + ID_KEY.length] = id;
    buf.set(tail, end + ID_KEY.length + 1);
    return buf.slice(0, end + ID_KEY.length + 1 + tail.length).buffer;
  }
  pos = 0;
  raw(start);
  const strAt = pos;
  sized(most, 0xa0, 32, 0xda, true);
  const textAt = pos;
  room(most);
  const n = writeUtf8(s, buf, textAt) - textAt;
  pos = strAt;
  sized(n, 0xa0, 32, 0xda, true);
  if (pos !== textAt) buf.copyWithin(pos, textAt, textAt + n);
  pos += n;
  raw(ID_KEY);
  int(id);
  raw(tail);
  const frame = buf.slice(0, pos).buffer;
  shrink();
  return frame;
}

/**
 * The bytes `write` writes with the functions below, to copy into frames with `raw` later: the
 * parts of frequent frames that never change, encoded once. It may run while a frame is being
 * written (it writes after it, then takes its bytes back).
 */
function fragment(write: () => void): Uint8Array {
  const at = pos;
  write();
  const bytes = buf.slice(at, pos);
  pos = at;
  return bytes;
}

/** Bytes already encoded (a `fragment`), copied as they are. */
function raw(bytes: Uint8Array): void {
  // room() may replace buf: take the position first, then read buf.
  const at = room(bytes.length);
  buf.set(bytes, at);
}

/**
 * Moves the write position by `n` bytes, growing the buffer as needed; returns the old position.
 * It may replace `buf`, so callers keep its result in a variable before they index `buf`: an
 * index expression that calls it would write into the old buffer (JavaScript reads `buf` first).
 */
function room(n: number): number {
  const at = pos;
  if (at + n > buf.length) {
    // Room to spare: an exact fit would make the very next byte grow (and copy) the buffer again.
    const next = new Uint8Array(Math.max(buf.length * 2, (at + n) * 2));
    next.set(buf.subarray(0, at));
    buf = next;
    view = new DataView(next.buffer);
  }
  pos += n;
  return at;
}

function byte(b: number): void {
  const at = room(1);
  buf[at] = b;
}

/** A type byte, then `n` big-endian in `width` bytes (1, 2 or 4); stores wrap a negative n to two's complement. */
function head(type: number, n: number, width: number): void {
  const at = room(1 + width) + 1;
  buf[at - 1] = type;
  if (width === 1) buf[at] = n;
  else if (width === 2) view.setUint16(at, n);
  else view.setUint32(at, n);
}

/**
 * A str, bin, array or map header: the fix form below `fixLimit`, then (str and bin only) the
 * 8-bit length form `type16 - 1`, then the 16- and 32-bit forms `type16` and `type16 + 1`.
 */
function sized(n: number, fix: number, fixLimit: number, type16: number, has8: boolean): void {
  if (n < fixLimit) byte(fix | n);
  else if (has8 && n < 0x100) head(type16 - 1, n, 1);
  else if (n < 0x10000) head(type16, n, 2);
  else head(type16 + 1, n, 4);
}

export function nil(): void {
  byte(0xc0);
}

export function bool(b: boolean): void {
  byte(b ? 0xc3 : 0xc2);
}

/** An integer within ±(2^53-1), in its smallest form (SPEC.md §3.2 rule 3). */
export function int(n: number): void {
  if (n >= -32 && n < 0x80) return byte(n & 0xff);
  const width = n >= 0 ? (n < 0x100 ? 1 : n < 0x10000 ? 2 : n < 0x100000000 ? 4 : 8) : n >= -0x80 ? 1 : n >= -0x8000 ? 2 : n >= -0x80000000 ? 4 : 8;
  const type = (n >= 0 ? 0xcc : 0xd0) + Math.log2(width);
  if (width < 8) return head(type, n, width);
  const at = room(9);
  buf[at] = type;
  view.setBigInt64(at + 1, BigInt(n));
}

export function str(s: string): void {
  const n = utf8Length(s);
  sized(n, 0xa0, 32, 0xda, true);
  room(n);
  writeUtf8(s, buf, pos - n);
}

/** Encoded names (keys, kinds, levels, modes, codes): a protocol name is encoded once per guest. */
const names = new Map<string, Uint8Array>();

/**
 * Writes a string from the protocol's small fixed vocabulary (a key, kind, level, mode or error
 * code), from a cache: QuickJS runs per-character loops slowly, and these are most of a frame.
 */
export function name(s: string): void {
  let bytes = names.get(s);
  if (!bytes) {
    bytes = fragment(() => str(s));
    names.set(s, bytes);
  }
  // One native copy: inside QuickJS, a JS loop over the bytes costs far more.
  raw(bytes);
}

/** The key `id`, which comes between the body and the rest of every envelope. */
const ID_KEY = fragment(() => str("id"));

export function bin(bytes: Uint8Array): void {
  sized(bytes.length, 0, 0, 0xc5, true);
  // room() may replace buf: take the position first, then read buf.
  const at = room(bytes.length);
  buf.set(bytes, at);
}

export function array(n: number): void {
  sized(n, 0x90, 16, 0xdc, false);
}

export function map(n: number): void {
  sized(n, 0x80, 16, 0xde, false);
}

/** The keys and indexes leading to the Value being written, to name it in an error (built only then). */
const trail: (string | number)[] = [];
let trailRoot = "";
let trailBase = 0;

function notAValue(depth: number, why: string): ZkguestError {
  let where = trailRoot;
  for (let d = trailBase; d < depth; d++) {
    const step = trail[d]!;
    where += typeof step === "number" ? `[${step}]` : `.${step}`;
  }
  return new ZkguestError("malformed_frame", `${where}: ${why}`);
}

/**
 * Writes a free-form Value (SPEC.md §4.1). `where` names it in errors; `depth` is the nesting
 * level it sits at in the frame. Map entries whose value is undefined are left out, as an
 * absent optional field is; anything that is not a Value throws ZkguestError malformed_frame.
 */
export function value(v: unknown, where: string, depth: number): void {
  trailRoot = where;
  trailBase = depth;
  writeValue(v, depth);
}

function writeValue(v: unknown, depth: number): void {
  if (v === null) return nil();
  if (typeof v === "string") return str(v);
  if (typeof v === "boolean") return bool(v);
  if (typeof v === "number") {
    if (Number.isSafeInteger(v)) return int(v);
    if (!Number.isFinite(v)) throw notAValue(depth, `${v}: numbers must be finite`);
    // Any other finite number, including integral ones past 2^53 such as 1e300, is a float64.
    const at = room(9);
    buf[at] = 0xcb;
    return view.setFloat64(at + 1, v);
  }
  if (v instanceof Uint8Array) return bin(v);
  if (typeof v !== "object") throw notAValue(depth, `a ${typeof v} is not a protocol value`);
  if (depth > MAX_FRAME_DEPTH) throw notAValue(depth, `nested deeper than ${MAX_FRAME_DEPTH} levels`);
  if (Array.isArray(v)) {
    array(v.length);
    for (let i = 0; i < v.length; i++) {
      trail[depth] = i;
      writeValue(v[i], depth + 1);
    }
    return;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) throw notAValue(depth, "expected a plain object");
  const record = v as Record<string, unknown>;
  const keys = presentKeys(record);
  if (keys.includes("__proto__")) throw notAValue(depth, "the map key '__proto__' is refused (SPEC.md §3.3)");
  map(keys.length);
  for (const k of keys) {
    str(k);
    trail[depth] = k;
    writeValue(record[k], depth + 1);
  }
}

/** The keys whose values are not undefined, in canonical order. */
function presentKeys(record: Record<string, unknown>): string[] {
  const keys = Object.keys(record);
  for (let i = 0; i < keys.length; i++) {
    if (record[keys[i]!] === undefined) return sortKeys(keys.filter((k) => record[k] !== undefined));
  }
  return sortKeys(keys);
}

/**
 * Encodes one Value on its own (not inside a frame) in the canonical encoding: what a guest puts
 * in a data witness, such as a circuit input. Throws ZkguestError malformed_frame naming `where`
 * for anything that is not a Value.
 */
export function encodeValue(v: unknown, where: string): Uint8Array {
  if (writing) throw new ZkguestError("invalid_state", "a value was encoded while a frame was being written");
  writing = true;
  pos = 0;
  try {
    value(v, where, 0);
    return buf.slice(0, pos);
  } finally {
    writing = false;
    if (buf.length > 65536) {
      buf = new Uint8Array(1024);
      view = new DataView(buf.buffer);
    }
  }
}

/**
 * Encodes one whole frame whose body is a plain object of protocol fields: the general encoder
 * the host side uses (the guest SDK writes its bodies field by field). Keys come out in
 * canonical order whatever the objects' own order, integer-like keys included.
 */
export function encodeFrame(kind: string, id: number, v: Version, body: Record<string, unknown>): Uint8Array {
  const keys = presentKeys(body);
  return writeFrameBytes(kind, id, v, keys.length, () => {
    for (const k of keys) {
      name(k);
      value(body[k], `${kind} body.${k}`, 2);
    }
  });
}

function hasSurrogate(k: string): boolean {
  for (let i = 0; i < k.length; i++) {
    const c = k.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) return true;
  }
  return false;
}

/**
 * Sorts keys in ascending UTF-8 byte order (= code point order). Array.prototype.sort compares
 * UTF-16 units, which agrees except when a surrogate meets U+E000..U+FFFF; only then is the
 * slower comparison needed.
 */
function sortKeys(keys: string[]): string[] {
  keys.sort();
  if (!keys.some(hasSurrogate)) return keys;
  const rank = (c: number) => (c >= 0xe000 ? c - 0x800 : c >= 0xd800 ? c + 0x2000 : c);
  return keys.sort((a, b) => {
    for (let i = 0; i < a.length && i < b.length; i++) {
      const d = rank(a.charCodeAt(i)) - rank(b.charCodeAt(i));
      if (d) return d;
    }
    return a.length - b.length;
  });
}
