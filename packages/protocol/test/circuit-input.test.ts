import { decode as referenceDecode, encode as referenceEncode } from "@msgpack/msgpack";
import { expect } from "chai";
import fc from "fast-check";
import { ZkguestError } from "../src/index.js";
import { CIRCUIT_INPUT_FORMAT, decodeCircuitInput, encodeCircuitInput, isCircuitInput } from "../src/wire/circuit-input.js";

// The circuit-input witness (SPEC.md §4.2.1): canonical MessagePack, decimal strings, nested
// arrays; held to @msgpack/msgpack for the bytes, and strict on what it reads.

function decodeError(bytes: Uint8Array): string {
  try {
    decodeCircuitInput(bytes);
  } catch (e) {
    if (e instanceof ZkguestError && e.code === "malformed_frame") return e.message;
    throw e;
  }
  throw new Error("expected decodeCircuitInput to fail");
}

describe("circuit input witness", () => {
  it("writes numbers, bigints and decimal strings as decimal strings, keys sorted: the bytes @msgpack/msgpack gives the same map", () => {
    const bytes = encodeCircuitInput({ numbers: [1, 2n, "3"], a: "21888242871839275222246405745257275088548364400416034343698204186575808495616", grid: [[0, 1], [2, 3]] });
    const expected = { format: CIRCUIT_INPUT_FORMAT, signals: { a: "21888242871839275222246405745257275088548364400416034343698204186575808495616", grid: [["0", "1"], ["2", "3"]], numbers: ["1", "2", "3"] } };
    expect(Buffer.from(bytes).toString("hex")).to.equal(Buffer.from(referenceEncode(expected, { sortKeys: true })).toString("hex"));
    expect(isCircuitInput(bytes)).to.equal(true);
    expect(decodeCircuitInput(bytes)).to.deep.equal(expected.signals);
  });

  it("round-trips any signals, and the same signals in any key order give the same bytes", () => {
    const element = fc.oneof(fc.nat(), fc.bigInt({ min: 0n, max: 2n ** 254n }).map((b) => b.toString()));
    const signals = fc.dictionary(fc.stringMatching(/^[a-z_][a-z0-9_]{0,5}$/), fc.oneof(element, fc.array(element, { maxLength: 4 })), { maxKeys: 5 });
    fc.assert(
      fc.property(signals, (s) => {
        const bytes = encodeCircuitInput(s);
        const reversed = Object.fromEntries(Object.entries(s).reverse());
        expect(encodeCircuitInput(reversed)).to.deep.equal(bytes);
        const decoded = decodeCircuitInput(bytes);
        expect(Object.keys(decoded).sort()).to.deep.equal(Object.keys(s).sort());
        for (const [k, v] of Object.entries(s)) expect(decoded[k]).to.deep.equal(Array.isArray(v) ? v.map(String) : String(v));
      }),
    );
  });

  it("refuses, naming the signal, what is not a non-negative integer", () => {
    expect(() => encodeCircuitInput({ a: -1 })).to.throw(RangeError, /a: -1 is not a non-negative integer/);
    expect(() => encodeCircuitInput({ a: [1, 1.5] })).to.throw(RangeError, /a\[1\]: 1.5 is not a non-negative integer/);
    expect(() => encodeCircuitInput({ a: 2 ** 53 })).to.throw(RangeError, /decimal strings or bigints/);
    expect(() => encodeCircuitInput({ a: -1n })).to.throw(RangeError, /a: -1 is negative/);
    expect(() => encodeCircuitInput({ a: "0x10" })).to.throw(RangeError, /a: '0x10' is not a decimal/);
    expect(() => encodeCircuitInput({ a: "007" })).to.throw(RangeError, /leading zeros/);
    expect(() => encodeCircuitInput({ a: "9".repeat(79) })).to.throw(RangeError, /79 digits/);
    expect(() => encodeCircuitInput({ a: null as unknown as number })).to.throw(TypeError, /a: a null is not a field element/);
  });

  it("reads strictly: the format, decimal strings only, nothing else at the top", () => {
    const encode = (v: unknown) => referenceEncode(v, { sortKeys: true });
    expect(decodeError(encode({ format: "other/1", signals: {} }))).to.match(/format is "other\/1"/);
    expect(decodeError(encode({ format: CIRCUIT_INPUT_FORMAT, signals: { a: 1 } }))).to.match(/signal a: expected a decimal string or an array, got number/);
    expect(decodeError(encode({ format: CIRCUIT_INPUT_FORMAT, signals: { a: ["1", "-2"] } }))).to.match(/signal a\[1\]: '-2' is not a decimal/);
    expect(decodeError(encode({ format: CIRCUIT_INPUT_FORMAT, signals: {}, extra: 1 }))).to.match(/unexpected key 'extra'/);
    expect(decodeError(encode({ format: CIRCUIT_INPUT_FORMAT, signals: { a: [[[[[[[[["1"]]]]]]]]] } }))).to.match(/more than 8 dimensions/);
    expect(decodeError(new Uint8Array([0xc1]))).to.match(/^circuit input: /);
    expect(isCircuitInput(new TextEncoder().encode("{}"))).to.equal(false);
    expect(referenceDecode(encodeCircuitInput({}))).to.deep.equal({ format: CIRCUIT_INPUT_FORMAT, signals: {} });
  });
});
