import { expect } from "chai";
import fc from "fast-check";
import { decode, encode, ERROR_CODES, frame, fromHex, toHex, type Message, type Value } from "@zkguest/protocol";
import { encodeUtf8 } from "@zkguest/protocol/wire";
import { isOkNil, readFrame } from "../src/incoming.js";

// How the SDK reads frames (incoming.ts checks bodies by hand, without io-ts, to stay small),
// held to the host side's decode in @zkguest/protocol: the same verdicts and values.

const text = fc.string({ unit: "binary", maxLength: 20 });
// Mostly ASCII keys (the writer's fast sort), sometimes any code point (its code point sort).
const key = fc.oneof(fc.string({ maxLength: 6 }), fc.string({ unit: "binary", maxLength: 6 })).filter((k) => k !== "__proto__");
const valueArb: fc.Arbitrary<Value> = fc.letrec<{ v: Value }>((tie) => ({
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
const fieldsArb = fc.dictionary(key, valueArb, { maxKeys: 5, noNullPrototype: true });
const id = fc.nat({ max: 0xffffffff });
const v = fc.constantFrom([1, 0] as const, [1, 3] as const);
const logEntry = fc.record({ level: fc.constantFrom("debug", "info", "warn", "error"), message: text, fields: fieldsArb }, { requiredKeys: ["level", "message"] });
const uint = fc.nat({ max: Number.MAX_SAFE_INTEGER });

/** Frames a guest receives: the host's requests and the answers to its own. */
const received: fc.Arbitrary<Message> = fc.oneof(
  fc.record({ v, id, kind: fc.constant("hello"), body: fc.record({ offer: fc.array(fc.tuple(fc.nat(0xffff), fc.nat(0xffff)), { maxLength: 3 }), host: text, limits: fc.record({ max_frame_bytes: uint, max_path_bytes: uint, max_log_message_bytes: uint, time_ms: uint }, { requiredKeys: ["max_frame_bytes", "max_path_bytes", "max_log_message_bytes"] }) }) }),
  fc.record({ v, id, kind: fc.constant("witness.get"), body: fc.record({ args: valueArb }) }),
  fc.record({ v, id, kind: fc.constant("proof.result"), body: fc.record({ success: fc.boolean(), args: valueArb, logs: fc.array(logEntry, { maxLength: 3 }), proof: fc.uint8Array({ maxLength: 20 }), error: fc.record({ code: fc.constantFrom(...ERROR_CODES), message: text }) }, { requiredKeys: ["success", "args", "logs"] }) }),
  fc.record({ v, id, kind: fc.constant("ok"), body: fc.record({ value: valueArb }) }),
  fc.record({ v, id, kind: fc.constant("error"), body: fc.record({ code: fc.constantFrom(...ERROR_CODES, "from_the_future"), message: text }) }),
) as fc.Arbitrary<Message>;

/** Changes to a valid frame: flip, drop, insert or cut bytes. */
const byte = fc.oneof(fc.nat(255), fc.constantFrom(0xc1, 0xd4, 0xc7, 0xcf, 0xd3, 0xca, 0xcb, 0xdd, 0xdf, 0xdb, 0xc0, 0xa0, 0x80, 0x90, 0xff));
const mutation = fc.array(fc.tuple(fc.constantFrom("flip", "drop", "insert", "cut"), fc.nat(), byte), { minLength: 1, maxLength: 3 });

function mutate(bytes: Uint8Array, changes: [string, number, number][]): Uint8Array {
  let b = [...bytes];
  for (const [op, at, byte] of changes) {
    const i = at % Math.max(b.length, 1);
    if (op === "flip") b[i] = byte;
    else if (op === "drop") b.splice(i, 1);
    else if (op === "insert") b.splice(i, 0, byte);
    else b = b.slice(0, i);
  }
  return new Uint8Array(b);
}

const GUEST_KINDS = ["witness.ready", "fs.store", "fs.read", "fs.list", "fs.stat", "fs.remove", "fs.mkdir", "log"];

/** Both readers' verdicts on `bytes`: the same code, or the same message for the kinds a guest reads. */
function sameVerdict(bytes: Uint8Array): void {
  const ours = readFrame(bytes, 1 << 20);
  const reference = decode(bytes, { maxFrameBytes: 1 << 20 });
  if (reference._tag === "Right" && GUEST_KINDS.includes(reference.right.kind)) return; // the SDK refuses these as requests without reading their bodies
  if (ours.ok && ours.frame.kind === "guest-request") return;
  const hex = toHex(bytes);
  if (reference._tag === "Left") {
    expect(ours.ok, `${hex}: the reference refuses with ${reference.left.code}: ${reference.left.message}`).to.equal(false);
    // The same code, answered with the same id (SPEC.md §3.4), or neither reads one.
    if (!ours.ok) expect({ code: ours.refusal.code, id: ours.refusal.id }, `${hex}: ${reference.left.message} / ${ours.refusal.message}`).to.deep.equal({ code: reference.left.code, id: reference.left.id });
  } else {
    expect(ours.ok ? ours.frame : ours.refusal, hex).to.deep.equal(reference.right);
  }
}

describe("guest SDK frame reading against the host side's decode (@zkguest/protocol)", () => {
  it("reads every frame a guest receives as the reference does", () => {
    fc.assert(fc.property(received, (m) => sameVerdict(encode(m))), { numRuns: 500 });
  });

  it("refuses exactly what the reference refuses, with the same code, on damaged frames", () => {
    fc.assert(fc.property(received, mutation, (m, changes) => sameVerdict(mutate(encode(m), changes))), { numRuns: 3000 });
  });

  it("refuses the profile's traps: ext types, 0xc1, 64-bit integers past 2^53, deep nesting, __proto__, oversized frames", () => {
    const hello = encode(frame("ok", 1, { value: null }));
    const withValue = (valueBytes: number[]) => {
      const at = [...hello].lastIndexOf(0xc0, hello.indexOf(0xa2)); // the nil of body.value
      return new Uint8Array([...hello.slice(0, at), ...valueBytes, ...hello.slice(at + 1)]);
    };
    for (const bytes of [
      withValue([0xd4, 0x01, 0x02]),
      withValue([0xc1]),
      withValue([0xcf, 0x00, 0x20, 0, 0, 0, 0, 0, 0]),
      withValue([0xd3, 0xff, 0xe0, 0, 0, 0, 0, 0, 0]),
      withValue([...Array(32).fill(0x91), 0xc0]),
      withValue([0x81, 0xa9, ...encodeUtf8("__proto__"), 0xc0]),
      withValue([0x82, 0xa1, 0x61, 0xc0, 0xa1, 0x61, 0xc0]),
      withValue([0xa2, 0xc3, 0x28]),
      withValue([0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0]),
      withValue([0xdd, 0xff, 0xff, 0xff, 0xff]),
      new Uint8Array([...hello, 0xc0]),
    ]) {
      sameVerdict(bytes);
      expect(readFrame(bytes, 1 << 20).ok, toHex(bytes)).to.equal(false);
    }
    expect(readFrame(hello, hello.length - 1)).to.deep.include({ ok: false, refusal: { code: "frame_too_large", message: `frame is ${hello.length} bytes, the limit is ${hello.length - 1}` } });
  });

  it("gives the code of the first failing check in SPEC.md §3.3's order when a frame breaks several rules", () => {
    // Found by the property above: an unknown envelope key holding a float, and an unknown kind.
    const unknownKind = fromHex("84a4006f647981a461726773cb0000000000000001a26964cc80a46b696e64ab0069746e6573732e676574a176920100");
    sameVerdict(unknownKind);
    expect(readFrame(unknownKind, 1 << 20)).to.deep.include({ ok: false, refusal: { code: "unknown_kind", message: "unknown message kind '\u0000itness.get'", id: 128 } });
    // Names of Object.prototype's members are unknown kinds like any other.
    for (const kind of ["constructor", "toString", "hasOwnProperty"]) {
      const bytes = fromHex(toHex(encode(frame("ok", 1, { value: null }))).replace("a26f6b", toHex(encodeUtf8(kind)).replace(/^/, (0xa0 + kind.length).toString(16))));
      sameVerdict(bytes);
      expect(readFrame(bytes, 1 << 20)).to.deep.include({ ok: false, refusal: { code: "unknown_kind", message: `unknown message kind '${kind}'`, id: 1 } });
    }
    // A float id is refused after the kind is known, with the id it could still be read as.
    const hex = toHex(encode(frame("witness.get", 7, { args: null })));
    const withFloatId = fromHex(hex.replace("a2696407", "a26964cb401c000000000000")); // id: 7.0
    sameVerdict(withFloatId);
    expect(readFrame(withFloatId, 1 << 20)).to.deep.include({ ok: false, refusal: { code: "malformed_frame", message: "id: a float where an integer is required", id: 7 } });
  });

  it("recognises exactly the canonical `ok nil` answer to its id and version (isOkNil, the fast path of every log)", () => {
    const id = fc.oneof(fc.constantFrom(0, 1, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1), fc.integer({ min: 0, max: 2 ** 32 - 1 }));
    const version = fc.tuple(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 200 }));
    const buffer = (b: Uint8Array): ArrayBuffer => b.slice().buffer;
    fc.assert(
      fc.property(id, version, fc.nat(), fc.integer({ min: 1, max: 255 }), (n, v, where, flip) => {
        const ok = encode(frame("ok", n, { value: null }, v));
        // Versions past a fixint are canonical too, but left to the full reader.
        expect(isOkNil(buffer(ok), n, v), toHex(ok)).to.equal(v[0] < 0x80 && v[1] < 0x80);
        expect(isOkNil(buffer(ok), (n + 1) % 2 ** 32, v)).to.equal(false);
        expect(isOkNil(buffer(ok), n, [v[0], v[1] + 1])).to.equal(false);
        const damaged = ok.slice();
        damaged[where % damaged.length]! ^= flip;
        expect(isOkNil(buffer(damaged), n, v)).to.equal(false);
        expect(isOkNil(buffer(encode(frame("ok", n, { value: 0 }, v))), n, v)).to.equal(false);
        expect(isOkNil(buffer(encode(frame("error", n, { code: "internal", message: "" }, v))), n, v)).to.equal(false);
      }),
      { numRuns: 500 },
    );
  });
});
