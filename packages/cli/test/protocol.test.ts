import { expect } from "chai";
import { zkguest } from "./cli-process.js";

const LOG = { v: [1, 0], id: 3, kind: "log", body: { level: "info", message: "hi" } };

describe("zkguest protocol", function () {
  this.timeout(30_000);

  it("encode then decode gives the frame back; decode takes hex with or without 0x, and from stdin", () => {
    const encoded = zkguest(["protocol", "encode", JSON.stringify(LOG)]);
    expect(encoded.stderr).to.equal("");
    expect(encoded.status).to.equal(0);
    const hex = encoded.stdout.trim();
    expect(hex).to.match(/^[0-9a-f]+$/);
    for (const [input, argv] of [["", ["protocol", "decode", hex]], ["", ["protocol", "decode", `0x${hex}`]], [`0X${hex.toUpperCase()}\n`, ["protocol", "decode", "-"]]] as const) {
      const r = zkguest(argv, { input });
      expect(r.status, `${argv.join(" ")}: ${r.stderr}`).to.equal(0);
      expect(JSON.parse(r.stdout)).to.deep.equal(LOG);
    }
  });

  it("an incomplete or wrong frame to encode is a typed one-line error, not an internal one", () => {
    const cases: [unknown, RegExp][] = [
      [{}, /^zkguest: malformed_frame: id: expected a request id/],
      [{ v: [1, 1] }, /^zkguest: malformed_frame: id: /],
      [{ v: [1, 1], kind: "log", id: 1 }, /^zkguest: malformed_frame: log body: expected a map/],
      [{ v: [1, 0], id: 1, kind: "log", body: { level: "info" } }, /^zkguest: malformed_frame: log body\.message: /],
      [{ v: [1, 0], id: 1, kind: "nope", body: {} }, /^zkguest: unknown_kind: unknown message kind 'nope'/],
      [{ v: [9, 0], id: 1, kind: "log", body: {} }, /^zkguest: unsupported_version: /],
      [[1], /^zkguest: malformed_frame: a frame must be a map/],
      [null, /^zkguest: malformed_frame: a frame must be a map/],
      [5, /^zkguest: malformed_frame: a frame must be a map/],
    ];
    for (const [frame, expected] of cases) {
      const r = zkguest(["protocol", "encode", JSON.stringify(frame)]);
      expect(r.stdout, JSON.stringify(frame)).to.equal("");
      expect(r.stderr, JSON.stringify(frame)).to.match(expected).and.to.match(/^[^\n]*\n$/);
      expect(r.status, JSON.stringify(frame)).to.equal(1);
    }
  });

  it("encode refuses an integer JSON would round; input past 4 characters a byte of the largest frame is refused, stdin included", () => {
    const big = zkguest(["protocol", "encode", '{"v":[1,0],"id":1,"kind":"witness.get","body":{"args":{"a":123456789012345678901234567890}}}']);
    expect(big.status).to.equal(1);
    expect(big.stderr).to.equal("zkguest: malformed_frame: protocol encode: the frame holds the integer 123456789012345678901234567890, beyond 2^53-1, which JSON numbers cannot carry exactly: pass it as a decimal string (SPEC.md §4.1)\n");
    const huge = zkguest(["protocol", "decode", "-"], { input: "00".repeat(8 * 2 ** 20 + 1) });
    expect(huge.status).to.equal(1);
    expect(huge.stderr).to.equal(`zkguest: frame_too_large: protocol decode: the frame's text is more than ${16 * 2 ** 20} bytes, 4 characters per byte of the largest frame (max_frame_bytes)\n`);
  });

  it("decode of what is not hex is a usage line; of a truncated frame a typed line", () => {
    const notHex = zkguest(["protocol", "decode", "0xzz"]);
    expect(notHex.status).to.equal(2);
    expect(notHex.stderr).to.match(/^zkguest: usage: decode takes the frame as hex digits[^\n]*\n$/);
    const truncated = zkguest(["protocol", "decode", "0x84a4"]);
    expect(truncated.status).to.equal(1);
    expect(truncated.stderr).to.match(/^zkguest: malformed_frame: [^\n]*\n$/);
  });
});
