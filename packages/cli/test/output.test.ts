import { expect } from "chai";
import { Writable } from "node:stream";
import { MAX_LINE_BYTES, printable, printJson, printLines } from "../src/cli-io.js";
import { hexdumpLines, showBytes, showOnTerminal, textOf } from "../src/shown-bytes.js";

/** A stream that keeps what was written to it. */
function sink(): Writable & { text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(Buffer.from(chunk));
      done();
    },
  });
  return Object.assign(stream, { text: () => Buffer.concat(chunks).toString("utf8") });
}

describe("CLI output: text from outside is printed escaped and bounded", () => {
  it("escapes what a terminal acts on: new lines, escape sequences, C1 controls, separators, bidi overrides", () => {
    expect(printable("bad\nzkguest: ok: proved\r\x1b[2K\tdone")).to.equal("bad\\nzkguest: ok: proved\\r\\x1b[2K\\tdone");
    expect(printable("\x00\x7f\x9b\u2028\u2029\u202e\u2066\u200f")).to.equal("\\x00\\x7f\\x9b\\u2028\\u2029\\u202e\\u2066\\u200f");
    expect(printable("plain text, é € 😀")).to.equal("plain text, é € 😀");
  });

  it("cuts a long line to MAX_LINE_BYTES, never in the middle of a character or an escape, saying how much was cut", () => {
    const long = printable("x".repeat(20_000_000));
    expect(Buffer.byteLength(long)).to.be.at.most(MAX_LINE_BYTES);
    expect(long).to.match(/^x+ … \[cut: \d+ more characters\]$/);
    expect(Number(/(\d+) more/.exec(long)![1]) + long.indexOf(" …")).to.equal(20_000_000);
    for (const unit of ["😀", "\x1b", "é"]) {
      const cut = printable(unit.repeat(MAX_LINE_BYTES));
      expect(Buffer.byteLength(cut), unit).to.be.at.most(MAX_LINE_BYTES);
      const kept = cut.slice(0, cut.indexOf(" …"));
      expect(kept, unit).to.equal(printable(unit).repeat(kept.length / printable(unit).length));
    }
    expect(printable("x".repeat(MAX_LINE_BYTES))).to.equal("x".repeat(MAX_LINE_BYTES));
  });

  it("printLines writes one line per line given; printJson escapes the rest and parses to the same value", () => {
    const out = sink();
    printLines(out, ["a\nb", "c"]);
    expect(out.text()).to.equal("a\\nb\nc\n");
    const json = sink();
    const value = { message: "\x1b[31m\u202e\x9b\u2028 red", n: 1 };
    printJson(json, value);
    expect(json.text()).to.equal('{"message":"\\u001b[31m\\u202e\\u009b\\u2028 red","n":1}\n');
    expect(JSON.parse(json.text())).to.deep.equal(value);
  });
});

describe("CLI output: bytes shown as text or hex", () => {
  const bytes = (...b: number[]) => new Uint8Array(b);
  it("is text when valid UTF-8 without controls but tab and line breaks, encoding back to the same bytes", () => {
    expect(showBytes(Buffer.from("a\tb\r\nc é 😀 \u202e"))).to.deep.equal({ text: "a\tb\r\nc é 😀 \u202e" });
    expect(showBytes(bytes(0xef, 0xbb, 0xbf, 0x41))).to.deep.equal({ text: "\ufeffA" });
    expect(showBytes(bytes())).to.deep.equal({ text: "" });
  });

  it("is hex otherwise: invalid UTF-8 (a stray byte, an overlong form, a surrogate), NUL, escape, DEL, C1", () => {
    for (const b of [bytes(0x41, 0xff), bytes(0xc0, 0xaf), bytes(0xed, 0xa0, 0x80), bytes(0x41, 0x00), bytes(0x1b, 0x5b), bytes(0x7f), bytes(0xc2, 0x9b)]) {
      expect(showBytes(b)).to.deep.equal({ hex: Buffer.from(b).toString("hex") });
      expect(textOf(b)).to.equal(undefined);
    }
  });
});

describe("CLI output: a file shown on a terminal", () => {
  const show = (chunks: Uint8Array[]): { out: string; err: string } => {
    const out = sink();
    const err = sink();
    const size = chunks.reduce((n, c) => n + c.length, 0);
    showOnTerminal({ stdout: out, stderr: err, stdin: process.stdin }, "/F", size, () => chunks);
    return { out: out.text(), err: err.text() };
  };

  it("decodes text across chunk boundaries (a character split between two), escaped, line by line", () => {
    const bytes = Buffer.from("a\tb\né😀\nlast");
    expect(show([bytes.subarray(0, 5), bytes.subarray(5, 7), bytes.subarray(7)])).to.deep.equal({ out: "a\\tb\né😀\nlast\n", err: "" });
  });

  it("prints a line with no break in pieces, none cut", () => {
    const long = "😀".repeat(1000);
    const { out } = show([Buffer.from(long.slice(0, 700)), Buffer.from(long.slice(700))]);
    expect(out.replace(/\n/g, "")).to.equal(long);
    expect(out).not.to.include("cut");
  });

  it("dumps binary as hex in whole rows of 16, whatever the chunks, after one line on stderr", () => {
    const bytes = Uint8Array.from({ length: 40 }, (_, i) => i);
    const { out, err } = show([bytes.subarray(0, 7), bytes.subarray(7, 30), bytes.subarray(30)]);
    expect(err).to.equal("zkguest: /F is binary (40 bytes), shown as hex; redirect stdout for its bytes\n");
    expect(out).to.equal([...hexdumpLines(bytes), ""].join("\n"));
    expect(out.split("\n")[2]).to.equal("00000020  20 21 22 23 24 25 26 27                          | !\"#$%&'|");
  });
});
