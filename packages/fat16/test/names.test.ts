import { expect } from "chai";
import fc from "fast-check";
import { either as E } from "fp-ts";
import { parsePath } from "../src/path.js";
import { displayName, nameKey, parseShortName, parseVolumeLabel } from "../src/short-name.js";

const nameError = (component: string): string => {
  const r = parseShortName(component);
  if (E.isRight(r)) throw new Error(`'${component}' was accepted`);
  expect(r.left.code).to.equal("invalid_name");
  return r.left.message;
};

const stored = (component: string): string => {
  const r = parseShortName(component);
  if (E.isLeft(r)) throw new Error(r.left.message);
  return String.fromCharCode(...r.right);
};

const LEGAL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'()-@^_`{}~".split("");
const legalPart = (min: number, max: number) => fc.array(fc.constantFrom(...LEGAL), { minLength: min, maxLength: max }).map((a) => a.join(""));

describe("8.3 names", () => {
  it("quotes the component and names the rule it broke", () => {
    expect(nameError("proof.json")).to.equal("proof.json: extension 'json' has 4 characters, FAT-16 allows 3");
    expect(nameError("verylongname.txt")).to.equal("verylongname.txt: name 'verylongname' has 12 characters, FAT-16 allows 8");
    expect(nameError("a*b")).to.match(/^a\*b: character '\*' is not allowed/);
    expect(nameError("a b")).to.equal("a b: space is not allowed in a FAT-16 short name");
    expect(nameError("a.b.c")).to.match(/^a\.b\.c: more than one '\.'/);
    expect(nameError(".hidden")).to.match(/^\.hidden: the name before the '\.' is empty/);
    expect(nameError("abc.")).to.match(/^abc\.: the extension after the '\.' is empty/);
    expect(nameError("caf\u00e9")).to.match(/character 'é' is not allowed/);
    expect(nameError("a\u0001")).to.match(/character U\+0001 is not allowed/);
    for (const ch of `"*+,/:;<=>?[\\]|`) expect(nameError(`x${ch}y`)).to.include("is not allowed");
  });

  it("stores letters upper-case and pads with spaces, changing nothing else", () => {
    expect(stored("proof.bin")).to.equal("PROOF   BIN");
    expect(stored("ReadMe")).to.equal("README     ");
    expect(stored("a1~$.{}")).to.equal("A1~$    {} ");
    expect(stored("12345678.123")).to.equal("12345678123");
  });

  it("accepts exactly the valid 8.3 names, and round-trips them case-insensitively", () => {
    fc.assert(
      fc.property(legalPart(1, 8), fc.option(legalPart(1, 3), { nil: undefined }), (base, ext) => {
        const name = ext === undefined ? base : `${base}.${ext}`;
        const r = parseShortName(name);
        expect(E.isRight(r), name).to.equal(true);
        if (E.isLeft(r)) return;
        expect(displayName(r.right)).to.equal(name.toUpperCase());
        expect(nameKey(r.right)).to.equal(nameKey(E.getOrElseW(() => new Uint8Array())(parseShortName(name.toLowerCase()))));
      }),
    );
  });

  it("refuses every name over the limits rather than truncating it", () => {
    fc.assert(
      fc.property(legalPart(9, 20), legalPart(0, 3), (base, ext) => {
        expect(E.isLeft(parseShortName(ext ? `${base}.${ext}` : base))).to.equal(true);
      }),
    );
    fc.assert(
      fc.property(legalPart(1, 8), legalPart(4, 10), (base, ext) => {
        expect(E.isLeft(parseShortName(`${base}.${ext}`))).to.equal(true);
      }),
    );
  });

  it("displays a leading 0x05 as 0xE5 and high bytes in code page 437", () => {
    const raw = Uint8Array.from([0x05, 0x41, 0x82, 0x20, 0x20, 0x20, 0x20, 0x20, 0x54, 0x20, 0x20]);
    expect(displayName(raw)).to.equal("σAé.T");
  });

  it("validates volume labels", () => {
    expect(String.fromCharCode(...E.getOrElseW(() => [])(parseVolumeLabel("my disk")))).to.equal("MY DISK    ");
    const long = parseVolumeLabel("twelve chars");
    expect(E.isLeft(long) && long.left.message).to.equal("label 'twelve chars': has 12 characters, FAT-16 allows 11");
  });
});

describe("paths", () => {
  const resolve = (p: string): string => {
    const r = parsePath(p);
    if (E.isLeft(r)) return `${r.left.code}: ${r.left.message}`;
    return "/" + r.right.map((c) => c.key.trimEnd()).join("/");
  };

  it("resolves lexically inside the volume", () => {
    expect(resolve("/")).to.equal("/");
    expect(resolve("/var/share/proof.bin")).to.equal("/VAR/SHARE/PROOF   BIN");
    expect(resolve("/a/./b/../c")).to.equal("/A/C");
    expect(resolve("/a/..")).to.equal("/");
  });

  it("never climbs above the root", () => {
    expect(resolve("/..")).to.equal("invalid_path: /..: '..' goes above the root");
    expect(resolve("/a/../../etc")).to.equal("invalid_path: /a/../../etc: '..' goes above the root");
  });

  it("refuses relative paths and empty components", () => {
    expect(resolve("a/b")).to.match(/^invalid_path: 'a\/b' is not absolute/);
    expect(resolve("")).to.match(/^invalid_path/);
    expect(resolve("/a//b")).to.equal("invalid_name: /a//b: empty component between two '/'; every component needs a name");
    expect(resolve("/a/")).to.match(/^invalid_name: \/a\/: empty component after the last '\/'/);
  });

  it("reports the first invalid component", () => {
    expect(resolve("/var/share/proof.json")).to.equal("invalid_name: proof.json: extension 'json' has 4 characters, FAT-16 allows 3");
  });
});
