import { expect } from "chai";
import { either as E } from "fp-ts";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { decode, encode, fromHex, fromVectorJson, toHex, toVectorJson, KINDS, ERROR_CODES, type Message, type GoldenVector } from "../src/index.js";

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../../protocol/vectors");
const files = readdirSync(dir).filter((f) => f.endsWith(".json"));
const load = (f: string) => JSON.parse(readFileSync(path.join(dir, f), "utf8")) as GoldenVector[];

describe("golden vectors (protocol/vectors)", () => {
  it("cover every kind, every error code and enough invalid frames", () => {
    const all = files.flatMap(load);
    const kinds = new Set(all.filter((v) => v.value).map((v) => (v.value as { kind: string }).kind));
    expect([...kinds].sort()).to.deep.equal([...KINDS].sort());
    const codes = new Set(all.filter((v) => (v.value as { kind?: string })?.kind === "error").map((v) => (v.value as { body: { code: string } }).body.code));
    for (const code of ERROR_CODES) expect(codes.has(code), code).to.equal(true);
    expect(all.filter((v) => v.error).length).to.be.at.least(5);
  });

  for (const file of files) {
    describe(file, () => {
      for (const v of load(file)) {
        it(v.name, () => {
          const bytes = fromHex(v.hex);
          const got = decode(bytes, v.max_frame_bytes ? { maxFrameBytes: v.max_frame_bytes } : {});
          if (v.error) {
            expect(E.isLeft(got), "decoding must fail").to.equal(true);
            if (E.isLeft(got)) expect({ code: got.left.code, id: got.left.id }).to.deep.equal({ code: v.error, id: v.id });
            return;
          }
          if (E.isLeft(got)) throw new Error(`decode failed: ${got.left.code}: ${got.left.message}`);
          expect(toVectorJson(got.right)).to.deep.equal(v.value);
          if (file !== "accepted.json") expect(toHex(encode(fromVectorJson(v.value) as Message))).to.equal(v.hex);
        });
      }
    });
  }
});
