import { expect } from "chai";
import { decode, encodeFrame, FieldsC } from "@zkguest/protocol";
import { either as E } from "fp-ts";
import { logFields } from "../src/log-fields.js";

/** What the host reads of `fields` logged: converted, written in a log frame, read back and checked as the host checks it. */
function logged(fields: unknown): unknown {
  const frame = encodeFrame("log", 1, [1, 1], { level: "info", message: "m", fields: logFields(fields) });
  const read = decode(frame);
  if (E.isLeft(read)) throw new Error(read.left.message);
  const carried = (read.right.body as { fields: unknown }).fields;
  expect(E.isRight(FieldsC.decode(carried))).to.equal(true);
  return carried;
}

describe("guest SDK: log fields are converted or refused in place, never thrown over", () => {
  it("converts bigint, NaN and the infinities, Date and Error by the documented rule", () => {
    class Failure extends Error {
      override name = "Failure";
      readonly code = "not_found";
    }
    expect(
      logged({ big: -(2n ** 70n), nan: NaN, inf: Infinity, ninf: -Infinity, when: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6)), never: new Date(NaN), err: new TypeError("bad"), coded: new Failure("gone") }),
    ).to.deep.equal({
      big: "-1180591620717411303424",
      nan: "NaN",
      inf: "Infinity",
      ninf: "-Infinity",
      when: "2026-01-02T03:04:05.006Z",
      never: "Invalid Date",
      err: { name: "TypeError", message: "bad" },
      coded: { name: "Failure", message: "gone", code: "not_found" },
    });
  });

  it("leaves undefined out of maps and makes it null in arrays", () => {
    expect(logged({ a: undefined, b: [1, undefined, 3], c: { d: undefined, e: 1 } })).to.deep.equal({ b: [1, null, 3], c: { e: 1 } });
  });

  it("refuses a cycle at its place, naming the path it refers back to", () => {
    const node: { name: string; next?: unknown; items: unknown[] } = { name: "n", items: [] };
    node.items.push({ up: node });
    expect(logged({ node })).to.deep.equal({ node: { name: "n", items: [{ up: "[refused: cyclic: refers back to fields.node]" }] } });
    const list: unknown[] = [1];
    list.push({ back: [list] });
    expect(logged({ a: { list } })).to.deep.equal({ a: { list: [1, { back: ["[refused: cyclic: refers back to fields.a.list]"] }] } });
    // The same object twice, not inside itself, is no cycle.
    const shared = { x: 1 };
    expect(logged({ a: shared, b: [shared] })).to.deep.equal({ a: { x: 1 }, b: [{ x: 1 }] });
  });

  it("refuses what is nested deeper than a frame may be, at the level where it would break the frame", () => {
    let deep: unknown = "bottom";
    for (let i = 0; i < 100; i++) deep = [deep];
    // The fields map is the frame's third level: 29 levels of arrays fit under it, up to 32.
    expect(JSON.stringify(logged({ deep }))).to.equal(`{"deep":${"[".repeat(29)}"[refused: nested deeper than 32 levels (SPEC.md §3)]"${"]".repeat(29)}}`);
  });

  it("refuses functions, symbols, Maps, class instances, '__proto__' keys and values whose reading throws", () => {
    const throwing = Object.defineProperty({}, "x", { enumerable: true, get: () => { throw new RangeError("no"); } });
    const protoKey = JSON.parse('{"__proto__": 1}') as unknown;
    expect(logged({ f: () => 1, s: Symbol("s"), m: new Map(), k: new (class Point {})(), t: throwing, p: protoKey })).to.deep.equal({
      f: "[refused: a function is not a protocol value]",
      s: "[refused: a symbol is not a protocol value]",
      m: "[refused: Map: only plain objects, arrays, Date and Error are converted]",
      k: "[refused: Point: only plain objects, arrays, Date and Error are converted]",
      t: { x: "[refused: reading it threw RangeError: no]" },
      p: "[refused: the map key '__proto__' is refused (SPEC.md §3.3)]",
    });
  });

  it("logs fields that are not a map as {value}; an Error as its map", () => {
    expect(logged("text")).to.deep.equal({ value: "text" });
    expect(logged([1n])).to.deep.equal({ value: ["1"] });
    expect(logged(new Error("e"))).to.deep.equal({ name: "Error", message: "e" });
  });

  it("gives protocol Values as they are, and leaves the caller's objects as they were", () => {
    const fields = { a: [1, "x", null, { b: new Uint8Array([1]) }], c: true, d: -0.5 };
    expect(logged(fields)).to.deep.equal(fields);
    const odd = { a: [1, 2n], b: { c: new Date(0) }, d: [NaN, () => 1] };
    expect(logged(odd)).to.deep.equal({ a: [1, "2"], b: { c: "1970-01-01T00:00:00.000Z" }, d: ["NaN", "[refused: a function is not a protocol value]"] });
    // The caller's own objects are left as they were.
    expect(odd.a[1]).to.equal(2n);
  });
});
