import { decode as referenceDecode, encode as referenceEncode } from "@msgpack/msgpack";
import { expect } from "chai";
import fc from "fast-check";
import { toHex, type Value } from "../src/index.js";
import { decodeUtf8, encodeUtf8 } from "../src/wire/utf8.js";
import { readMessagePack } from "../src/wire/reader.js";
import { scanMessagePack } from "../src/wire/scan.js";
import { frameStart, name, str, value, writeFrame, writeFrameEndingIn } from "../src/wire/writer.js";

// The wire codec (the MessagePack profile of SPEC.md §3, used by both the host side and the
// guest SDK), held to an independent implementation, @msgpack/msgpack: the same bytes for
// canonical values, the same values read back, and nothing read that the reference would read
// differently.

const text = fc.string({ unit: "binary", maxLength: 20 });
const asciiKey = fc.string({ maxLength: 6 }).filter((k) => k !== "__proto__" && String(Number(k) >>> 0) !== k);
const anyKey = fc.string({ unit: "binary", maxLength: 6 }).filter((k) => k !== "__proto__");
const valueOf = (key: fc.Arbitrary<string>): fc.Arbitrary<Value> =>
  fc.letrec<{ v: Value }>((tie) => ({
    v: fc.oneof(
      { depthSize: "small" },
      fc.constant(null),
      fc.boolean(),
      fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
      fc.constantFrom(0, -1, -32, -33, 127, 128, 255, 256, -128, -129, 65535, 65536, -32768, -32769, 2 ** 32 - 1, 2 ** 32, -(2 ** 31), -(2 ** 31) - 1),
      fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Number.isInteger(d)),
      text,
      fc.uint8Array({ maxLength: 40 }),
      fc.array(tie("v"), { maxLength: 4 }),
      fc.dictionary(key, tie("v"), { maxKeys: 5, noNullPrototype: true }),
    ),
  })).v;

/** Our bytes for one Value: a log frame's `fields`, cut out of the frame. */
function writeValue(v: Value): Uint8Array {
  const frame = new Uint8Array(
    writeFrame("log", 1, [1, 0], 1, () => {
      str("value");
      value(v, "value", 2);
    }),
  );
  // map(4) "body" map(1) "value" <value> "id" ...: the value starts after 1+5+1+6 bytes.
  const start = 13;
  const end = frame.length - (3 + 1 + 5 + 4 + 2 + 3); // "id" 1, "kind" "log", "v" [1, 0]
  return frame.subarray(start, end);
}

const mutation = fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 3 });

describe("wire codec against @msgpack/msgpack", () => {
  it("writes exactly the reference's bytes for values with ASCII, non-index keys (sortKeys)", () => {
    fc.assert(
      fc.property(valueOf(asciiKey), (v) => {
        expect(toHex(writeValue(v))).to.equal(toHex(referenceEncode(v, { sortKeys: true })));
      }),
      { numRuns: 1000 },
    );
  });

  it("reads back what the reference writes, for any keys", () => {
    fc.assert(
      fc.property(valueOf(anyKey), (v) => {
        const read = readMessagePack(referenceEncode(v));
        if (!read.ok) throw new Error(read.why);
        expect(read.value).to.deep.equal(v);
      }),
      { numRuns: 1000 },
    );
  });

  it("never reads a damaged value differently from the reference", () => {
    fc.assert(
      fc.property(valueOf(anyKey), mutation, (v, flips) => {
        const bytes = referenceEncode(v);
        for (const [at, b] of flips) bytes[at % bytes.length] = b;
        const ours = readMessagePack(bytes);
        if (!ours.ok) return; // refusing more than the lenient reference is the point of the profile
        expect(ours.value).to.deep.equal(referenceDecode(bytes));
      }),
      { numRuns: 3000 },
    );
  });

  it("writes frames far larger than its starting buffer (bytes, strings, many entries)", () => {
    const big = new Uint8Array(300_000).map((_, i) => i & 0xff);
    const v: Value = { data: big, text: "x".repeat(70_000) + "\u00e9", list: Array.from({ length: 5000 }, (_, i) => i), small: new Uint8Array([1]) };
    const read = readMessagePack(writeValue(v));
    if (!read.ok) throw new Error(read.why);
    expect(read.value).to.deep.equal(v);
    expect(toHex(writeValue(v))).to.equal(toHex(referenceEncode(v, { sortKeys: true })));
  });

  it("writes every kind of header correctly where it fills the buffer to the last byte and past", () => {
    // A string of each length pushes the headers after it across the buffer's first growth
    // point; a frame over 64 KiB before each puts the writer back on its small buffer.
    for (let k = 900; k < 1100; k++) {
      writeValue("z".repeat(70_000));
      const v: Value = ["x".repeat(k), 300, -300, 70_000, 2 ** 32 - 1, -(2 ** 31), 2 ** 40, Array.from({ length: 20 }, (_, i) => i), "y".repeat(40), new Uint8Array(300)];
      expect(toHex(writeValue(v)), `after ${k} bytes`).to.equal(toHex(referenceEncode(v)));
    }
  });

  it("writes array-index keys in byte order, where JavaScript object order differs", () => {
    const bytes = writeValue({ "9": 1, "10": 2, "": 3, a: 4 });
    // '' (a0) 3, '10' (a23130) 2, '9' (a139) 1, 'a' (a161) 4
    expect(toHex(bytes)).to.equal("84a003a2313002a13901a16104");
  });

  it("writes keys by code point: astral characters after U+E000..U+FFFF", () => {
    const bytes = toHex(writeValue({ "\u{1F600}": 1, "\uFFFD": 2 }));
    expect(bytes.indexOf(toHex(encodeUtf8("\uFFFD")))).to.be.lessThan(bytes.indexOf(toHex(encodeUtf8("\u{1F600}"))));
  });

  it("reads keys through its cache exactly: same lengths, non-ASCII, invalid UTF-8, and past the cache's bound", () => {
    const read = (bytes: Uint8Array) => readMessagePack(bytes);
    // Keys of one length that differ in one byte, read twice each (the second read from the cache).
    const keys = ["abcd", "abce", "bbcd", "abc\u00e9", "\u00e9bc", "a", "A"];
    const map = Object.fromEntries(keys.map((k, i) => [k, i]));
    for (let round = 0; round < 2; round++) expect(read(referenceEncode(map))).to.deep.equal({ ok: true, value: map, floats: [] });
    // Invalid UTF-8 in a key is refused every time, cached or not.
    const bad = new Uint8Array([0x81, 0xa2, 0xc3, 0x28, 0xc0]);
    for (let round = 0; round < 2; round++) expect(read(bad)).to.deep.include({ ok: false });
    // Thousands of distinct keys: more than the cache keeps; all read back right, twice.
    const many = Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`k${i.toString(36)}`, i]));
    for (let round = 0; round < 2; round++) expect(read(referenceEncode(many))).to.deep.equal({ ok: true, value: many, floats: [] });
  });

  it("scanMessagePack checks tighter bounds without building anything, refusing at the header that breaks one", () => {
    const within = { a: [1, [2, "xy"]], b: "abc", c: new Uint8Array(100_000), d: [null, true, 1.5, -1, 2 ** 40] };
    const bounds = { maxDepth: 3, maxItems: 20, maxStrBytes: 3 };
    expect(scanMessagePack(referenceEncode(within), bounds)).to.equal(undefined);
    // Deeper: refused at the fourth container's first byte, whatever follows.
    const deep = new Uint8Array(1 << 20).fill(0x91);
    expect(scanMessagePack(deep, bounds)).to.equal("byte 4: containers nested deeper than 3 levels");
    // Items of all containers together, a map entry counting two: 1 + 3 * 2 = 7 fits, 9 does not.
    const narrow = { ...bounds, maxItems: 8 };
    expect(scanMessagePack(referenceEncode([{ a: 1, b: 2, c: 3 }]), narrow)).to.equal(undefined);
    expect(scanMessagePack(referenceEncode([1, { a: 1, b: 2, c: 3, d: 4 }]), narrow)).to.equal("byte 3: more than 8 items in all containers together");
    expect(scanMessagePack(referenceEncode(new Array(100_000).fill(0)), narrow)).to.equal("byte 5: more than 8 items in all containers together");
    // A str longer than the bound is refused at its header, before its bytes are read.
    expect(scanMessagePack(referenceEncode({ a: "abcd" }), bounds)).to.equal("byte 4: a str of 4 bytes, more than 3");
    // Truncated input, trailing bytes and types outside the strict profile are refused too.
    expect(scanMessagePack(new Uint8Array([0xc5, 0xff, 0xff, 1]), bounds)).to.equal("byte 3: 65535 bytes needed, 1 remain (truncated)");
    expect(scanMessagePack(new Uint8Array([0xc0, 0xc0]), bounds)).to.equal("byte 1: 1 trailing bytes");
    expect(scanMessagePack(new Uint8Array([0x91, 0xd4, 1, 2]), bounds)).to.equal("byte 2: type 0xd4 is not in the strict profile");
  });

  it("scanMessagePack passes whatever the reader reads, given a frame's bounds", () => {
    const frameBounds = { maxDepth: 32, maxItems: Infinity, maxStrBytes: Infinity };
    fc.assert(
      fc.property(valueOf(anyKey), (v) => {
        const bytes = referenceEncode(v);
        if (readMessagePack(bytes).ok) expect(scanMessagePack(bytes, frameBounds)).to.equal(undefined);
      }),
    );
  });

  it("writeFrameEndingIn gives writeFrame's bytes: strings of every header size, ids of every width", () => {
    const longText = fc.oneof(text, fc.string({ unit: "binary", minLength: 30, maxLength: 300 }), fc.constant("x".repeat(70_000)));
    const id = fc.oneof(fc.constantFrom(0, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1), fc.integer({ min: 0, max: 2 ** 32 - 1 }));
    fc.assert(
      fc.property(fc.constantFrom("debug", "info", "warn", "error"), longText, id, fc.constantFrom<[number, number]>([1, 0], [1, 3], [200, 70_000]), (level, message, n, v) => {
        const start = frameStart(2, () => {
          name("level");
          name(level);
          name("message");
        });
        const fast = new Uint8Array(writeFrameEndingIn(start, message, n, "log", v));
        const slow = new Uint8Array(writeFrame("log", n, v, 2, () => {
          name("level");
          name(level);
          name("message");
          str(message);
        }));
        expect(toHex(fast)).to.equal(toHex(slow));
        expect(referenceDecode(fast)).to.deep.equal({ body: { level, message }, id: n, kind: "log", v });
      }),
      { numRuns: 300 },
    );
  });

  it("encodes and decodes UTF-8 as TextEncoder and a fatal TextDecoder do", () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.oneof(fc.constantFrom("\ud800", "\udfff", "a"), fc.string({ unit: "binary", minLength: 1, maxLength: 1 })), maxLength: 30 }), (s) => {
        expect(encodeUtf8(s)).to.deep.equal(new TextEncoder().encode(s));
      }),
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 30 }), (bytes) => {
        let expected: string | undefined;
        try {
          expected = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
        } catch {
          expected = undefined;
        }
        let ours: string | undefined;
        try {
          ours = decodeUtf8(bytes);
        } catch {
          ours = undefined;
        }
        expect(ours).to.equal(expected);
      }),
      { numRuns: 2000 },
    );
  });
});
