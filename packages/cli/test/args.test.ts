import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import { PassThrough, Readable } from "node:stream";
import type { CliIO } from "../src/cli-io.js";
import { MAX_ARGS_BYTES, readJsonArgs } from "../src/json-args.js";
import { tempDir, zkguest } from "./cli-process.js";

/** A CliIO whose stdin is `stdin`; what is written to stdout and stderr is dropped. */
function withStdin(stdin: NodeJS.ReadableStream): CliIO {
  return { stdin, stdout: new PassThrough(), stderr: new PassThrough() };
}

/** Standard input that never ends: 64 KiB chunks for as long as someone reads, counted. */
function endless(): Readable & { served: () => number } {
  let served = 0;
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  const stream = new Readable({
    read() {
      served += chunk.length;
      this.push(chunk);
    },
  });
  return Object.assign(stream, { served: () => served });
}

async function rejection(p: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error("expected a rejection");
}

const BIG = '{"amount": 123456789012345678901234567890}';
const BIG_ERROR = "holds the integer 123456789012345678901234567890, beyond 2^53-1, which JSON numbers cannot carry exactly: pass it as a decimal string (SPEC.md §4.1)";

describe("--args: one reader for run, remote and conformance guest", () => {
  let dir: string;
  before(() => {
    dir = tempDir("args");
    fs.writeFileSync(path.join(dir, "args.json"), '{"numbers":[40,2]}\n');
    fs.writeFileSync(path.join(dir, "big.json"), BIG);
    fs.writeFileSync(path.join(dir, "huge.json"), `[${"0,".repeat(MAX_ARGS_BYTES / 2)}0]`);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("reads JSON inline, from @FILE and from stdin; null when absent", async () => {
    const io = withStdin(Readable.from([Buffer.from('{"numbers":'), Buffer.from("[1]}")]));
    expect(await readJsonArgs("run", '{"a":[1,"x"]}', io)).to.deep.equal({ a: [1, "x"] });
    expect(await readJsonArgs("run", `@${path.join(dir, "args.json")}`, io)).to.deep.equal({ numbers: [40, 2] });
    expect(await readJsonArgs("run", "-", io)).to.deep.equal({ numbers: [1] });
    expect(await readJsonArgs("run", undefined, io)).to.equal(null);
  });

  it("stops reading stdin once it passes the largest request frame, naming the limit", async () => {
    const stdin = endless();
    const err = await rejection(readJsonArgs("remote prove", "-", withStdin(stdin)));
    expect(err.code).to.equal("frame_too_large");
    expect(err.message).to.equal(`remote prove: --args - (standard input) is more than ${MAX_ARGS_BYTES} bytes, the largest request frame (max_frame_bytes)`);
    // Read up to the limit and a little past it (the stream's buffer), not on and on.
    expect(stdin.served()).to.be.below(MAX_ARGS_BYTES + 2 ** 20);
    stdin.destroy();
  });

  it("refuses an integer JSON would round, from every source, with one message", async () => {
    for (const option of [BIG, `@${path.join(dir, "big.json")}`, "-"]) {
      const err = await rejection(readJsonArgs("conformance guest", option, withStdin(Readable.from([Buffer.from(BIG)]))));
      expect(err.code, option).to.equal("malformed_frame");
      expect(err.message).to.equal(`conformance guest: --args ${BIG_ERROR}`);
    }
  });

  describe("the commands, as a user runs them (refused before any guest runs or any server is asked)", () => {
    const NOWHERE = ["--url", "http://127.0.0.1:1"];
    const PROGRAM = "0".repeat(64);
    const cases: [string, string[], string | undefined, RegExp][] = [
      ["remote execute --args @FILE too large", ["remote", "execute", PROGRAM, "--args", "@huge.json", ...NOWHERE], undefined, /^zkguest: frame_too_large: remote execute: --args @huge\.json is more than \d+ bytes, the largest request frame \(max_frame_bytes\)$/],
      ["remote prove --args @FILE missing", ["remote", "prove", PROGRAM, "--args", "@nothere.json", ...NOWHERE], undefined, /^zkguest: not_found: remote prove: --args @nothere\.json: no such file$/],
      ["remote prove --args - too large", ["remote", "prove", PROGRAM, "--args", "-", ...NOWHERE], " ".repeat(MAX_ARGS_BYTES + 1), /^zkguest: frame_too_large: remote prove: --args - \(standard input\) is more than \d+ bytes/],
      ["remote execute --args @FILE with a large integer", ["remote", "execute", PROGRAM, "--args", "@big.json", ...NOWHERE], undefined, /^zkguest: malformed_frame: remote execute: --args holds the integer 123456789012345678901234567890, beyond 2\^53-1/],
      ["conformance guest --args @FILE with a large integer", ["conformance", "guest", "nothere.zkg", "--args", "@big.json"], undefined, /^zkguest: malformed_frame: conformance guest: --args holds the integer 123456789012345678901234567890, beyond 2\^53-1/],
      ["conformance guest --args - too large", ["conformance", "guest", "nothere.zkg", "--args", "-"], "[" + "1,".repeat(MAX_ARGS_BYTES / 2) + "1]", /^zkguest: frame_too_large: conformance guest: --args - \(standard input\) is more than \d+ bytes/],
      ["run --args - too large", ["run", "nothere.zkg", "--args", "-"], " ".repeat(MAX_ARGS_BYTES + 1), /^zkguest: frame_too_large: run: --args - \(standard input\) is more than \d+ bytes/],
    ];
    for (const [what, argv, input, expected] of cases) {
      it(what, () => {
        const r = zkguest(argv, { cwd: dir, ...(input === undefined ? {} : { input }) });
        expect(r.stderr.trimEnd()).to.match(expected);
        expect(r.stderr.trimEnd().split("\n")).to.have.length(1);
        expect(r.status).to.equal(1);
      });
    }
  });
});
