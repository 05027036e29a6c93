import { expect } from "chai";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ERROR_CODES, KINDS } from "../src/index.js";

const spec = readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../../protocol/SPEC.md"), "utf8");

describe("SPEC.md agrees with the codecs", () => {
  it("the error code table lists exactly ERROR_CODES, in order", () => {
    const section = spec.slice(spec.indexOf("## 7. Error codes"), spec.indexOf("## 8. Versioning"));
    const codes = [...section.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]);
    expect(codes).to.deep.equal([...ERROR_CODES]);
  });

  it("every message kind has a section", () => {
    for (const kind of KINDS) expect(spec, kind).to.contain(`**\`${kind}\`**`);
  });
});

describe("SPEC.md §12 worked example", () => {
  it("the annotated bytes are exactly what encode gives", async () => {
    const { encode, frame, toHex } = await import("../src/index.js");
    const section = spec.slice(spec.indexOf("## 12. A worked example"));
    const block = section.slice(section.indexOf("```") + 3, section.indexOf("```", section.indexOf("```") + 3));
    // Each annotated line is hex groups, then a comment: keep the leading tokens that are hex.
    const hex = block
      .split("\n")
      .map((line) => {
        const tokens = line.trim().split(/\s+/);
        const end = tokens.findIndex((tok) => !/^[0-9a-f]+$/.test(tok));
        return tokens.slice(0, end < 0 ? tokens.length : end).join("");
      })
      .join("");
    const expected = toHex(encode(frame("fs.store", 1, { path: "/var/share/proof.bin", data: new Uint8Array([1, 2, 3]), mode: "create" })));
    expect(hex).to.equal(expected);
  });
});
