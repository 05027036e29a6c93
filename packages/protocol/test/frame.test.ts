import { expect } from "chai";
import fc from "fast-check";
import { either as E } from "fp-ts";
import {
  decode,
  encode,
  frame,
  KINDS,
  negotiate,
  toHex,
  fromHex,
  DEFAULT_LIMITS,
  type Kind,
  ValueC,
  type ProtocolError,
  floatRefusedAt,
  readableId,
  unsafeIntegerLiteral,
} from "../src/index.js";
import { anyMessageArb, messageArb } from "./arbitraries.js";

function decodeError(bytes: Uint8Array, opts = {}): ProtocolError {
  const r = decode(bytes, opts);
  if (E.isRight(r)) throw new Error(`expected a decode error, got ${JSON.stringify(r.right)}`);
  return r.left;
}

/** Hand-assembled MessagePack: fixstr of an ASCII string. */
const str = (s: string) => [0xa0 | s.length, ...Buffer.from(s)];

describe("protocol frames", () => {
  describe("round trip", () => {
    for (const kind of KINDS as readonly Kind[]) {
      it(`decode(encode(m)) = m for ${kind}`, () => {
        fc.assert(
          fc.property(messageArb(kind), (m) => {
            const back = decode(encode(m));
            if (E.isLeft(back)) throw new Error(`${back.left.code}: ${back.left.message}`);
            expect(back.right).to.deep.equal(m);
          }),
          { numRuns: 150 },
        );
      });
    }

    it("sorts keys by code point, as UTF-8 bytes sort (astral characters after U+E000-U+FFFF)", () => {
      const m = frame("log", 1, { level: "info", message: "", fields: { "\u{1F600}": 1, "\uFFFD": 2, b: 3, a: 4 } });
      const hex = toHex(encode(m));
      const keyHex = (k: string) => toHex(Uint8Array.from([0xa0 | Buffer.byteLength(k), ...Buffer.from(k)]));
      const order = ["a", "b", "\uFFFD", "\u{1F600}"].map((k) => hex.indexOf(keyHex(k)));
      expect(order.every((at) => at > 0)).to.equal(true);
      expect(order).to.deep.equal([...order].sort((x, y) => x - y));
    });

    it("encoding is canonical: re-encoding a decoded frame gives the same bytes", () => {
      fc.assert(
        fc.property(anyMessageArb, (m) => {
          const bytes = encode(m);
          const back = decode(bytes);
          expect(E.isRight(back)).to.equal(true);
          if (E.isRight(back)) expect(toHex(encode(back.right))).to.equal(toHex(bytes));
        }),
        { numRuns: 300 },
      );
    });
  });

  describe("readable ids (SPEC.md §3.4)", () => {
    it("reads the id of every valid frame", () => {
      fc.assert(fc.property(anyMessageArb, (m) => readableId(encode(m)) === m.id), { numRuns: 300 });
    });

    it("reads it through faults inside the value, not through broken structure", () => {
      const dup = (inner: string) => fromHex(`84a4626f6479${inner}a2696409a46b696e64a766732e73746174a176920101`);
      expect(readableId(dup("82a470617468a141a470617468a142"))).to.equal(9); // duplicate body key
      expect(readableId(dup("81a470617468d40101"))).to.equal(9); // ext
      expect(readableId(dup("81a470617468a2c328"))).to.equal(9); // invalid UTF-8
      expect(readableId(dup(`81a470617468${"91".repeat(40)}c0`))).to.equal(9); // too deep
      expect(readableId(dup("81a470617468c1"))).to.equal(undefined); // 0xc1: no value to step over
      expect(readableId(dup("81a470617468a141").subarray(0, 20))).to.equal(undefined); // truncated
      expect(readableId(fromHex("83a2696401a2696402a46b696e64a0"))).to.equal(undefined); // two ids
      expect(readableId(fromHex("81a26964cbbff0000000000000"))).to.equal(undefined); // id -1.0
      expect(readableId(fromHex("81a26964cf0000000100000000"))).to.equal(undefined); // id 2^32
      expect(readableId(fromHex("81d902696407"))).to.equal(7); // a str8 key: not canonical, still "id"
    });
  });

  describe("big integers (SPEC.md §4.1)", () => {
    it("finds integer literals JSON.parse would round, not strings, floats or safe integers", () => {
      expect(unsafeIntegerLiteral('{"wei": 1000000000000000000000}')).to.equal("1000000000000000000000");
      expect(unsafeIntegerLiteral("[-9007199254740992]")).to.equal("-9007199254740992");
      expect(unsafeIntegerLiteral('{"wei": "1000000000000000000000", "f": 1e30, "g": 2.5, "max": 9007199254740991, "s": "a\\"9007199254740993"}')).to.equal(undefined);
    });
  });

  it("proof.result's optional stage: witness or prove, only when success is false (SPEC.md §5.1)", () => {
    const failed = { success: false, args: null, logs: [], error: { code: "internal" as const, message: "x" } };
    for (const stage of ["witness", "prove"] as const) {
      const r = decode(encode(frame("proof.result", 3, { ...failed, stage })));
      expect(E.isRight(r) && (r.right.body as { stage?: string }).stage).to.equal(stage);
    }
    const r = decode(encode(frame("proof.result", 3, failed)));
    expect(E.isRight(r) && (r.right.body as { stage?: string }).stage).to.equal(undefined);
    const beside = decode(encode(frame("proof.result", 3, { success: true, proof: new Uint8Array([1]), args: null, logs: [], stage: "prove" })));
    expect(E.isLeft(beside) && beside.left).to.deep.include({ code: "malformed_frame" });
    expect(E.isLeft(beside) && beside.left.message).to.match(/success is true but a stage is present/);
    const unknown = decode(encode(frame("proof.result", 3, { ...failed, stage: "verify" } as never)));
    expect(E.isLeft(unknown) && unknown.left.code).to.equal("malformed_frame");
  });

  describe("floats where a later minor may put them (SPEC.md §3.3)", () => {
    it("refuses floats at this version's integer fields only", () => {
      expect(floatRefusedAt("fs.read", ["body", "offset"])).to.equal(true);
      expect(floatRefusedAt("hello", ["body", "limits", "max_frame_bytes"])).to.equal(true);
      expect(floatRefusedAt("hello", ["body", "offer", 0, 1])).to.equal(true);
      expect(floatRefusedAt("fs.list", ["id"])).to.equal(true);
      expect(floatRefusedAt("hello", ["body", "limits", "max_widgets"])).to.equal(false);
      expect(floatRefusedAt("fs.read", ["body", "weight"])).to.equal(false);
      expect(floatRefusedAt("fs.read", ["trace"])).to.equal(false);
      expect(floatRefusedAt("witness.ready", ["body", "witnesses", 0, "weight"])).to.equal(false);
      expect(floatRefusedAt("proof.result", ["body", "logs", 0, "fields"])).to.equal(false);
      expect(floatRefusedAt("ok", ["body", "value", "size"])).to.equal(false);
    });
  });

  describe("hostile bytes", () => {
    it("never throws on arbitrary bytes", () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
          const r = decode(bytes);
          if (E.isLeft(r)) expect(r.left.code).to.be.oneOf(["malformed_frame", "unsupported_version", "unknown_kind", "frame_too_large"]);
        }),
        { numRuns: 3000 },
      );
    });

    it("never throws on mutated valid frames (flipped, cut, spliced bytes)", () => {
      const mutated = fc
        .tuple(anyMessageArb, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), fc.nat())
        .map(([m, flips, cut]) => {
          const b = encode(m);
          for (const [at, byte] of flips) b[at % b.length] = byte;
          return b.subarray(0, b.length - (cut % 3));
        });
      fc.assert(fc.property(mutated, (bytes) => void decode(bytes)), { numRuns: 3000 });
    });

    it("refuses truncation at every byte of a valid frame", () => {
      const bytes = encode(frame("fs.store", 9, { path: "/A.BIN", data: new Uint8Array([1, 2, 3]), mode: "append" }));
      for (let n = 0; n < bytes.length; n++) expect(decodeError(bytes.subarray(0, n)).code).to.equal("malformed_frame");
    });

    it("refuses an oversize frame before parsing it", () => {
      const big = new Uint8Array(DEFAULT_LIMITS.max_frame_bytes + 1);
      expect(decodeError(big).code).to.equal("frame_too_large");
      expect(decodeError(new Uint8Array(100), { maxFrameBytes: 99 }).message).to.contain("limit is 99");
    });

    it("refuses deep nesting without recursing on it", () => {
      const deep = new Uint8Array(200_000).fill(0x91);
      expect(decodeError(deep).message).to.match(/nested deeper than 32/);
    });

    it("refuses huge declared lengths without allocating them", () => {
      for (const hex of ["c6ffffffff", "dbffffffff41", "ddffffffff", "dfffffffff", "dc ffff 00"]) {
        expect(decodeError(fromHex(hex)).code).to.equal("malformed_frame");
      }
    });

    it("refuses duplicate keys, also in large maps", () => {
      expect(decodeError(Uint8Array.from([0x82, ...str("a"), 1, ...str("a"), 2])).message).to.contain("duplicate map key 'a'");
      const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
      keys.push("k3");
      const big = [0xde, 0, keys.length, ...keys.flatMap((k) => [...str(k), 0])];
      expect(decodeError(Uint8Array.from(big)).message).to.contain("duplicate map key 'k3'");
    });

    it("refuses ext types, non-string keys, invalid UTF-8, 0xc1, unsafe integers, trailing bytes", () => {
      const cases: [string, RegExp][] = [
        ["d40100", /ext types/],
        ["810102", /map keys must be strings/],
        ["a2c0af", /not valid UTF-8/],
        ["a3eda080", /not valid UTF-8/], // an encoded surrogate
        ["c1", /never used/],
        ["cf0020000000000000", /outside/],
        ["d3ffe0000000000000", /outside/],
        ["c0c0", /trailing bytes/],
      ];
      for (const [hex, why] of cases) expect(decodeError(fromHex(hex)).message, hex).to.match(why);
    });

    it("refuses a __proto__ key in a Value before anything is sent", () => {
      const args = JSON.parse('{"a": {"__proto__": {"polluted": true}}}') as unknown;
      expect(ValueC.decode(args)._tag).to.equal("Left");
      expect(ValueC.is(args)).to.equal(false);
    });

    it("refuses a __proto__ key", () => {
      expect(decodeError(Uint8Array.from([0x81, ...str("__proto__"), 1])).code).to.equal("malformed_frame");
    });
  });

  describe("envelope and body rules", () => {
    const raw = (o: unknown) => encode(o as never);

    it("names both versions on a major mismatch and keeps the id", () => {
      const e = decodeError(raw({ v: [2, 0], id: 7, kind: "log", body: { level: "info", message: "x" } }));
      expect(e).to.deep.equal({ code: "unsupported_version", message: "frame is version 2.0, this peer speaks 1.1", id: 7 });
    });

    it("accepts a higher minor and drops fields it does not know", () => {
      const r = decode(raw({ v: [1, 9], id: 1, kind: "fs.stat", body: { path: "/A", follow: true }, trace: "x" }));
      expect(r).to.deep.equal(E.right({ v: [1, 9], id: 1, kind: "fs.stat", body: { path: "/A" } }));
    });

    it("answers an unknown kind with unknown_kind and the id", () => {
      expect(decodeError(raw({ v: [1, 0], id: 4, kind: "fs.chmod", body: {} }))).to.deep.include({ code: "unknown_kind", id: 4 });
    });

    it("names the field and the rule when a body is wrong", () => {
      const e = decodeError(raw({ v: [1, 0], id: 1, kind: "fs.store", body: { path: "/A", data: new Uint8Array(), mode: "truncate" } }));
      expect(e.message).to.equal('fs.store body.mode: expected "create" | "overwrite" | "append", got "truncate"');
      const w = decodeError(raw({ v: [1, 0], id: 1, kind: "witness.ready", body: { witnesses: [{ type: "data", data: "x" }] } }));
      expect(w.message).to.contain("body.witnesses.0.data");
    });

    it("refuses a float where an integer is required, even an integral one", () => {
      // fs.read offset 1.0 as float64, hand-assembled (our encoder never writes it).
      const hex = "84a4626f647982a6" + toHex(Buffer.from("offset")) + "cb3ff0000000000000a470617468a12fa2696401a46b696e64a766732e72656164a176920100";
      const e = decodeError(fromHex(hex));
      expect(e.message).to.equal("fs.read body.offset: a float where an integer is required");
      const asInt = decode(fromHex(hex.replace("cb3ff0000000000000", "01")));
      expect(E.isRight(asInt)).to.equal(true);
    });

    it("names where a float sits, inside arrays too", () => {
      const e = decodeError(encode({ v: [1, 0], id: 1, kind: "hello", body: { offer: [[1, 0], [1, 0.5]], host: "h", limits: { max_frame_bytes: 1, max_path_bytes: 1, max_log_message_bytes: 1 } } } as never));
      expect(e.message).to.contain("offer");
      const raw = fromHex("84a4626f647981a46172677391cb3ff8000000000000a2696401a46b696e64ab7769746e6573732e676574a176920100");
      expect(decode(raw)).to.deep.equal(E.right({ v: [1, 0], id: 1, kind: "witness.get", body: { args: [1.5] } }));
      const inVersion = fromHex("84a4626f647981a470617468a12fa2696401a46b696e64a766732e73746174a17692cb3ff000000000000000");
      expect(decodeError(inVersion).message).to.equal("fs.stat v.0: a float where an integer is required");
    });

    it("allows floats inside Value fields", () => {
      const m = frame("log", 1, { level: "info", message: "t", fields: { ratio: 0.25, nested: [{ x: 1.5 }] } });
      expect(decode(encode(m))).to.deep.equal(E.right(m));
    });

    it("reads an unknown error code as internal, keeping the code", () => {
      const r = decode(raw({ v: [1, 1], id: 2, kind: "error", body: { code: "disk_on_fire", message: "hot" } }));
      expect(r).to.deep.equal(E.right({ v: [1, 1], id: 2, kind: "error", body: { code: "internal", message: "[disk_on_fire] hot" } }));
    });
  });

  describe("negotiate", () => {
    it("picks the highest common major at the lower minor", () => {
      expect(negotiate([[1, 4], [2, 0]], [[1, 2]])).to.deep.equal(E.right([1, 2]));
      expect(negotiate([[1, 0]], [[1, 3], [2, 1]])).to.deep.equal(E.right([1, 0]));
      expect(negotiate([[1, 5], [2, 3]], [[1, 0], [2, 7]])).to.deep.equal(E.right([2, 3]));
    });

    it("names both sides when there is no common major", () => {
      expect(negotiate([[2, 0]], [[1, 0]])).to.deep.equal(
        E.left({ code: "unsupported_version", message: "peer offers 2.0; this side speaks 1.0: no common major version" }),
      );
      expect(E.isLeft(negotiate([], [[1, 0]]))).to.equal(true);
    });
  });
});
