import { expect } from "chai";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { BIN, REPO, tempDir, writeFiles, zkguest } from "./cli-process.js";

const HELLO = path.join(REPO, "examples/hello-js/controller.ts");

/** Test guests, built on the fly by `zkguest run` (outside any npm project: the CLI's own SDK). */
const GUESTS = {
  "catches.ts": `import { defineController, fs, isZkguestError, log } from "@zkguest/guest-sdk";
export default defineController({
  getWitnesses() {
    try {
      fs.store("/var/share/proof.json", "x");
      log.error("stored a name FAT-16 cannot hold");
    } catch (e) {
      if (!isZkguestError(e)) throw e;
      log.warn("caught", { code: e.code });
    }
    return [];
  },
  entrypoint(result) { fs.store("/var/share/proof.bin", result.proof!); },
});
`,
  "throws.ts": `import { defineController, log } from "@zkguest/guest-sdk";
export default defineController({
  getWitnesses(args) { log.info("about to fail"); throw new RangeError("bad input " + JSON.stringify(args)); },
  entrypoint() {},
});
`,
  "spins.ts": `import { defineController } from "@zkguest/guest-sdk";
export default defineController({ getWitnesses() { for (;;) {} }, entrypoint() {} });
`,
  "hoards.ts": `import { defineController } from "@zkguest/guest-sdk";
const kept: Uint8Array[] = [];
export default defineController({ getWitnesses() { for (;;) kept.push(new Uint8Array(1 << 20)); }, entrypoint() {} });
`,
  "spoofs.ts": `import { defineController, log } from "@zkguest/guest-sdk";
export default defineController({
  getWitnesses() {
    log.info("a log line\\nzkguest: ok: proved\\u001b[2K");
    throw new Error("bad\\nzkguest: ok: proved\\r\\u001b[32mfine\\u202e" + "y".repeat(20e6));
  },
  entrypoint() {},
});
`,
  "stamps.ts": `import { defineController, encodeUtf8, fs } from "@zkguest/guest-sdk";
export default defineController({
  getWitnesses() {
    fs.store("/var/share/a.txt", "a");
    return [{ type: "data", data: encodeUtf8(JSON.stringify(fs.list("/var/share"))) }];
  },
  entrypoint(result) { fs.store("/var/share/proof.bin", result.proof!); },
});
`,
  "writes-text.ts": `import { defineController, fs } from "@zkguest/guest-sdk";
export default defineController({
  getWitnesses() {
    fs.store("/var/share/note.txt", "line one\\nline two\\tand a tab, é 😀\\n" + "x".repeat(100));
    fs.store("/var/share/esc.txt", "\\u001b[2Kzkguest: ok\\u202e");
    fs.store("/var/share/bin.dat", new Uint8Array([0, 1, 2, 255]));
    return [];
  },
  entrypoint() {},
});
`,
  "odd-logs.ts": `import { defineController, log } from "@zkguest/guest-sdk";
const cyclic: Record<string, unknown> = { a: 1 };
cyclic.self = cyclic;
let deep: unknown = "bottom";
for (let i = 0; i < 40; i++) deep = [deep];
export default defineController({
  getWitnesses() {
    log.info("bigint", { v: 12345678901234567890123n });
    log.info("date", { v: new Date(Date.UTC(2026, 11, 6)) });
    log.info("error", { v: new RangeError("bad") });
    log.info("nan", { v: NaN, inf: -Infinity });
    log.info("undefined", { v: undefined, list: [undefined] });
    log.info("function", { v: () => 1 });
    log.info("cyclic", { v: cyclic });
    log.info("deep", { v: deep });
    log.error("an Error as the fields", new TypeError("as fields") as never);
    return [];
  },
  entrypoint() {},
});
`,
  "writes.ts": `import { defineController, encodeUtf8, fs } from "@zkguest/guest-sdk";
export default defineController({
  getWitnesses(args: { n: number }) {
    for (let i = 0; i < 30; i++) fs.store(\`/D\${args.n}/F\${i}.TXT\`, "x".repeat(3000 + 100 * i));
    return [{ type: "data", data: encodeUtf8(String(args.n)) }];
  },
  entrypoint(result) { fs.store(\`/P\${(result.args as { n: number }).n}.BIN\`, result.proof!); },
});
`,
  "broken.ts": `import { defineController } from "@zkguest/guest-sdk";
export default defineController({ getWitnesses() { return [] }, entrypoint() { return ) } });
`,
};

interface Combined {
  readonly status: number;
  /** stdout and stderr interleaved as written. */
  readonly output: string;
}

/** Runs the CLI with stdout and stderr on one file, to check what comes after what. */
function zkguestCombined(args: string[], cwd: string): Combined {
  const file = path.join(cwd, `combined-${process.hrtime.bigint()}.txt`);
  const fd = fs.openSync(file, "w");
  try {
    const r = spawnSync(process.execPath, [BIN, ...args], { cwd, stdio: ["ignore", fd, fd] });
    return { status: r.status ?? -1, output: fs.readFileSync(file, "utf8") };
  } finally {
    fs.closeSync(fd);
  }
}

describe("zkguest run", function () {
  this.timeout(30_000);
  let dir: string;
  before(() => {
    dir = tempDir("run");
    writeFiles(dir, GUESTS);
    const built = zkguest(["build", HELLO, "-o", path.join(dir, "hello.zkg")]);
    if (built.status !== 0) throw new Error(built.stderr);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("runs an artifact through the lifecycle and prints the logs, the report and what was stored", () => {
    const r = zkguest(["run", "hello.zkg", "--args", '{"numbers":[1,2,3]}'], { cwd: dir });
    expect(r.stderr).to.equal("");
    expect(r.status).to.equal(0);
    const lines = r.stdout.split("\n");
    expect(lines[0]).to.equal("logs:");
    expect(lines[1]).to.match(/^ {2}\[witness\] +info +computing witnesses \{"count":3,"sum":6\}$/);
    expect(lines[2]).to.match(/^ {2}\[entrypoint\] +info +proof stored \{"bytes":\d+,"path":"\/var\/share\/proof\.bin"\}$/);
    expect(r.stdout).to.match(/\n {2}status +proved\n/);
    expect(r.stdout).to.match(/\n {2}program +hello [0-9a-f]{64}\n/);
    expect(r.stdout).to.match(/\n {2}witnesses +1, sha256 [0-9a-f]{64}\n/);
    expect(r.stdout).to.match(/\n {2}resources +memory [\d.]+ MiB \(largest sample\), 4 host calls, \d+ bytes written\n/);
    expect(r.stdout).to.match(/\nfiles:\n {2}\/VAR\/SHARE\/PROOF\.BIN {2}\d+ bytes {2}hex: [0-9a-f]{64}\.\.\.\n$/);
  });

  it("--json: the report as JSON with bytes as hex; --image keeps the disk, where `zkguest fs cat` finds the proof", () => {
    const image = path.join(dir, "hello.img");
    const r = zkguest(["run", HELLO, "--args", "-", "--json", "--image", image], { input: '{"numbers":[40,2]}' });
    expect(r.status, r.stderr).to.equal(0);
    const report = JSON.parse(r.stdout) as {
      name: string;
      status: string;
      proof: string;
      witnesses: { type: string; data: string }[];
      files: { path: string; bytes: number; hex?: string }[];
    };
    expect(report).to.include({ name: "controller", status: "proved" });
    expect(Buffer.from(report.witnesses[0]!.data, "hex").toString()).to.equal('{"numbers":[40,2],"sum":42}');
    expect(report.files).to.deep.equal([{ path: "/VAR/SHARE/PROOF.BIN", bytes: report.proof.length / 2, hex: report.proof }]);
    const cat = spawnSync(process.execPath, [BIN, "fs", "cat", image, "/var/share/proof.bin"]);
    expect(cat.status, cat.stderr.toString()).to.equal(0);
    expect(cat.stdout.toString("hex")).to.equal(report.proof);
  });

  it("--execute: the dry run (Host.execute), the witness step alone: status executed, no proof, nothing stored, exit 0", () => {
    const image = path.join(dir, "execute.img");
    const r = zkguest(["run", "hello.zkg", "--execute", "--args", '{"numbers":[1,2,3]}', "--image", image, "--json"], { cwd: dir });
    expect(r.stderr).to.equal("");
    expect(r.status).to.equal(0);
    const report = JSON.parse(r.stdout) as { status: string; proof?: string; witnesses: unknown[]; files: unknown[]; logs: { phase: string }[] };
    expect(report.status).to.equal("executed");
    expect(report.proof).to.equal(undefined);
    expect(report.witnesses).to.have.length(1);
    expect(report.logs.map((l) => l.phase)).to.deep.equal(["witness"]);
    expect(report.files).to.deep.equal([]);
    const listed = zkguest(["fs", "ls", image, "/"]);
    expect(listed.status, listed.stderr).to.equal(0);
    expect(listed.stdout).to.equal("");
    const human = zkguest(["run", "hello.zkg", "--execute", "--args", '{"numbers":[1,2,3]}'], { cwd: dir });
    expect(human.status, human.stderr).to.equal(0);
    expect(human.stdout).to.match(/\n {2}status +executed\n/).and.to.match(/\n {2}proof +none\n/);
    // A failed witness step is still exit 1 with its one line.
    const failed = zkguest(["run", "throws.ts", "--execute", "--args", "[7]"], { cwd: dir });
    expect(failed.status).to.equal(1);
    expect(failed.stderr).to.equal("zkguest: guest_error: RangeError: bad input [7]\n");
  });

  it("reports each file as text (valid UTF-8 without controls) or hex, saying which; times to the microsecond; nothing twice", () => {
    const json = zkguest(["run", "writes-text.ts", "--execute", "--json"], { cwd: dir });
    expect(json.status, json.stderr).to.equal(0);
    const report = JSON.parse(json.stdout) as { files: unknown[]; resources: Record<string, number> } & Record<string, unknown>;
    const note = `line one\nline two\tand a tab, é 😀\n${"x".repeat(100)}`;
    const esc = Buffer.from("\u001b[2Kzkguest: ok\u202e");
    expect(Object.keys(report)).to.deep.equal(["name", "program", "status", "witnessesHash", "witnesses", "logs", "files", "resources"]);
    expect(report.files).to.deep.equal([
      { path: "/VAR/SHARE/NOTE.TXT", bytes: Buffer.byteLength(note), text: note },
      { path: "/VAR/SHARE/ESC.TXT", bytes: esc.length, hex: esc.toString("hex") },
      { path: "/VAR/SHARE/BIN.DAT", bytes: 4, hex: "000102ff" },
    ]);
    for (const key of ["witnessMs", "proveMs", "entrypointMs"]) expect(String(report.resources[key]), key).to.match(/^\d+(\.\d{1,3})?$/);
    const text = zkguest(["run", "writes-text.ts", "--execute"], { cwd: dir });
    expect(text.status, text.stderr).to.equal(0);
    expect(text.stdout.split("files:\n")[1]).to.equal(
      [
        // The first 64 characters, escaped.
        `  /VAR/SHARE/NOTE.TXT  ${Buffer.byteLength(note)} bytes  text: ${Array.from(note).slice(0, 64).join("").replace("\n", "\\n").replace("\t", "\\t").replace("\n", "\\n")}...`,
        `  /VAR/SHARE/ESC.TXT  ${esc.length} bytes  hex: ${esc.toString("hex")}`,
        "  /VAR/SHARE/BIN.DAT  4 bytes  hex: 000102ff",
        "",
      ].join("\n"),
    );
  });

  it("log fields that are no protocol Value are converted or refused in place, in a real sandbox run that goes on", () => {
    const r = zkguest(["run", "odd-logs.ts", "--execute", "--json"], { cwd: dir });
    expect(r.stderr).to.equal("");
    expect(r.status).to.equal(0);
    const report = JSON.parse(r.stdout) as { status: string; logs: { message: string; fields?: unknown }[] };
    expect(report.status).to.equal("executed");
    const refusedDeep = `${"[".repeat(29)}"[refused: nested deeper than 32 levels (SPEC.md §3)]"${"]".repeat(29)}`;
    expect(report.logs.map((l) => [l.message, l.fields])).to.deep.equal([
      ["bigint", { v: "12345678901234567890123" }],
      ["date", { v: "2026-12-06T00:00:00.000Z" }],
      ["error", { v: { name: "RangeError", message: "bad" } }],
      ["nan", { v: "NaN", inf: "-Infinity" }],
      ["undefined", { list: [null] }],
      ["function", { v: "[refused: a function is not a protocol value]" }],
      ["cyclic", { v: { a: 1, self: "[refused: cyclic: refers back to fields.v]" } }],
      ["deep", { v: JSON.parse(refusedDeep) }],
      ["an Error as the fields", { name: "TypeError", message: "as fields" }],
    ]);
  });

  it("--args @FILE reads the arguments from a file; --prover dev is the default prover", () => {
    fs.writeFileSync(path.join(dir, "args.json"), '{"numbers":[40,2]}\n');
    for (const extra of [[], ["--prover", "dev"]]) {
      const r = zkguest(["run", "hello.zkg", "--args", "@args.json", "--json", ...extra], { cwd: dir });
      expect(r.status, r.stderr).to.equal(0);
      const report = JSON.parse(r.stdout) as { status: string; proofInfo: { prover: string }; witnesses: { data: string }[] };
      expect(report.status).to.equal("proved");
      expect(report.proofInfo.prover).to.equal("dev");
      expect(Buffer.from(report.witnesses[0]!.data, "hex").toString()).to.equal('{"numbers":[40,2],"sum":42}');
    }
  });

  it("a bad --image (a directory, other bytes, an empty file) is the host's one line about the image, before any guest runs", () => {
    fs.mkdirSync(path.join(dir, "imagedir"), { recursive: true });
    fs.writeFileSync(path.join(dir, "junk.img"), Buffer.alloc(100_000, 0x5a));
    fs.writeFileSync(path.join(dir, "empty.img"), "");
    const cases: [string, RegExp][] = [
      ["imagedir", /^zkguest: corrupt_volume: imagedir: a directory, not a disk image\n$/],
      ["junk.img", /^zkguest: corrupt_volume: junk\.img: not a FAT-16 disk image: sector 0 is neither a FAT boot sector nor a partition table [^\n]*\n$/],
      ["empty.img", /^zkguest: corrupt_volume: empty\.img: not a FAT-16 disk image: image is 0 bytes, too short for a boot sector\n$/],
    ];
    for (const [image, expected] of cases) {
      for (const mode of [[], ["--execute"]]) {
        const r = zkguest(["run", "hello.zkg", "--image", image, ...mode], { cwd: dir });
        expect(r.stdout, image).to.equal("");
        expect(r.stderr, image).to.match(expected);
        expect(r.status, image).to.equal(2);
      }
    }
    expect(fs.readFileSync(path.join(dir, "junk.img"))).to.deep.equal(Buffer.alloc(100_000, 0x5a));
  });

  it("runs a WebAssembly guest (examples/c-guest, built from source) given as a .wasm file", function () {
    const wasm = path.join(dir, "c-guest.wasm");
    const built = spawnSync("sh", [path.join(REPO, "examples/c-guest/build.sh"), wasm], { encoding: "utf8" });
    if (built.status !== 0) {
      console.warn(`    skipped: examples/c-guest does not build here (install clang, lld, wasi-libc, libclang-rt-14-dev-wasm32): ${built.stderr.trim()}`);
      this.skip();
    }
    const r = zkguest(["run", wasm, "--args", '{"block":7}'], { cwd: dir });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/\[entrypoint\] +info +stored the proof \{"bytes":\d+,"path":"\/var\/share\/proof\.bin"\}/);
    expect(r.stdout).to.match(/\n {2}program +c-guest [0-9a-f]{64}\n/);
    expect(r.stdout).to.match(/\nfiles:\n {2}\/VAR\/SHARE\/PROOF\.BIN /);
  });

  it("a 4-character extension is an error the guest catches (invalid_name), and the run goes on", () => {
    const r = zkguest(["run", "catches.ts"], { cwd: dir });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/host warn +fs\.store answered invalid_name: proof\.json: extension 'json' has 4 characters, FAT-16 allows 3\n/);
    expect(r.stdout).to.match(/\] +warn +caught \{"code":"invalid_name"\}\n/);
    expect(r.stdout).not.to.include("stored a name FAT-16 cannot hold");
  });

  describe("a failed run exits 1 with one line on stderr, after the logs", () => {
    const cases: [string, string[], string, RegExp][] = [
      ["a guest that throws", ["run", "throws.ts", "--args", "[7]"], "zkguest: guest_error: RangeError: bad input [7]", /\[witness\] +info +about to fail\n/],
      ["a guest past --timeout-ms", ["run", "spins.ts", "--timeout-ms", "150"], "zkguest: limit_exceeded: the guest ran longer than its time limit of 150 ms", /status +failed \(limit_exceeded, limit: time\)/],
      ["a guest past --memory-mb", ["run", "hoards.ts", "--memory-mb", "4"], "zkguest: limit_exceeded: the guest used more than its memory limit of 4.0 MiB", /status +failed \(limit_exceeded, limit: memory\)/],
    ];
    for (const [what, argv, lastLine, inReport] of cases) {
      it(what, () => {
        const r = zkguestCombined(argv, dir);
        expect(r.status, r.output).to.equal(1);
        expect(r.output).to.match(/^logs:\n/).and.to.match(inReport);
        const lines = r.output.trimEnd().split("\n");
        // The line starts with the code, the cause and the limit; a detail may follow (how far the heap grew).
        expect(lines[lines.length - 1]!.startsWith(lastLine), `${lines[lines.length - 1]} starts with ${lastLine}`).to.equal(true);
        expect(lines.filter((l) => l.startsWith("zkguest:"))).to.have.length(1);
      });
    }
  });

  it("a guest cannot spoof or flood the output: its text is escaped, the error is one bounded line", () => {
    const r = zkguest(["run", "spoofs.ts"], { cwd: dir });
    expect(r.status).to.equal(1);
    expect(r.stderr.endsWith("\n")).to.equal(true);
    const errorLines = r.stderr.slice(0, -1).split("\n");
    expect(errorLines).to.have.length(1);
    expect(errorLines[0]).to.match(/^zkguest: guest_error: Error: bad\\nzkguest: ok: proved\\r\\x1b\[32mfine\\u202ey+ … \[cut: \d+ more characters\]$/);
    expect(Buffer.byteLength(r.stderr)).to.be.at.most(4096 + 1);
    expect(r.stdout.length, "20 MB were not printed").to.be.below(64 * 1024);
    expect(r.stdout).to.include("a log line\\nzkguest: ok: proved\\x1b[2K");
    for (const out of [r.stdout, r.stderr]) {
      expect(out).not.to.match(/[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]/);
      expect(out).not.to.match(/^zkguest: ok/m);
    }
  });

  it("the same guest, arguments and starting image give the same witnesses and image in any time zone", () => {
    const start = path.join(dir, "start.img");
    expect(zkguest(["fs", "mkfs", start, "--size", "3M"]).status).to.equal(0);
    const run = (tz: string) => {
      const image = path.join(dir, `${tz.replace("/", "-")}.img`);
      fs.copyFileSync(start, image);
      const r = spawnSync(process.execPath, [BIN, "run", "stamps.ts", "--image", image, "--json"], { cwd: dir, encoding: "utf8", env: { ...process.env, TZ: tz } });
      expect(r.status, r.stderr).to.equal(0);
      return { hash: (JSON.parse(r.stdout) as { witnessesHash: string }).witnessesHash, image: fs.readFileSync(image) };
    };
    const [utc, kiritimati] = [run("UTC"), run("Pacific/Kiritimati")];
    expect(kiritimati.hash).to.equal(utc.hash);
    expect(kiritimati.image.equals(utc.image), "identical images").to.equal(true);
  });

  it("concurrent runs on one --image take turns: all prove, the image stays clean with every run's files", async () => {
    const image = path.join(dir, "shared.img");
    expect(zkguest(["fs", "mkfs", image, "--size", "8M"]).status).to.equal(0);
    expect(zkguest(["build", "writes.ts"], { cwd: dir }).status).to.equal(0);
    const runs = [1, 2, 3, 4].map(
      (n) =>
        new Promise<number>((resolve) => {
          const p = spawn(process.execPath, [BIN, "run", "writes.zkg", "--image", image, "--args", JSON.stringify({ n })], { cwd: dir, stdio: "ignore" });
          p.on("exit", (code) => resolve(code ?? -1));
        }),
    );
    expect(await Promise.all(runs)).to.deep.equal([0, 0, 0, 0]);
    const fsck = spawnSync("fsck.fat", ["-n", image], { encoding: "utf8" });
    expect(fsck.status, fsck.stdout).to.equal(0);
    const listed = zkguest(["fs", "ls", image]).stdout;
    for (const n of [1, 2, 3, 4]) {
      expect(listed).to.include(`D${n}/`).and.to.include(`P${n}.BIN`);
      expect(zkguest(["fs", "ls", image, `/D${n}`]).stdout.trim().split("\n")).to.have.length(30);
    }
    expect(fs.readdirSync(dir).filter((f) => f.startsWith("shared.img."))).to.deep.equal([]);
  });

  describe("bad input is one line on stderr", () => {
    const cases: [string, string[], number, RegExp][] = [
      ["arguments that are not JSON", ["run", "hello.zkg", "--args", "{numbers:1}"], 2, /^zkguest: usage: run: --args is not JSON: /],
      ["--args @FILE of a missing file", ["run", "hello.zkg", "--args", "@nothere.json"], 1, /^zkguest: not_found: run: --args @nothere\.json: no such file$/],
      ["--args @FILE of a directory", ["run", "hello.zkg", "--args", "@."], 1, /^zkguest: not_found: run: --args @\.: not a file \(a directory\)$/],
      ["--args @FILE larger than a request frame", ["run", "hello.zkg", "--args", "@big.json"], 1, /^zkguest: frame_too_large: run: --args @big\.json is more than \d+ bytes, the largest request frame \(max_frame_bytes\)$/],
      ["--args @ without a file", ["run", "hello.zkg", "--args", "@"], 2, /^zkguest: usage: run: --args @FILE needs a file name after the @ /],
      ["an unknown prover", ["run", "hello.zkg", "--prover", "plonk"], 2, /^zkguest: usage: run: --prover is one of dev, groth16, got 'plonk' /],
      ["--execute with a prover", ["run", "hello.zkg", "--execute", "--prover", "groth16"], 2, /^zkguest: usage: run: --execute is the witness step alone, which no prover takes part in: drop --prover and --keys /],
      ["a missing guest", ["run", "nothere.zkg"], 1, /^zkguest: not_found: nothere\.zkg: no such file$/],
      ["a file that is not an artifact", ["run", "catches.zkg"], 1, /^zkguest: malformed_frame: not a zkguest artifact: /],
      // 60 MiB of nested one-element arrays: once a minute and 5 GB before the host aborted.
      ["an artifact of arrays nested 60 Mi deep", ["run", "nested.zkg"], 1, /^zkguest: malformed_frame: not a zkguest artifact: byte 5: containers nested deeper than 4 levels$/],
      ["a controller that does not compile", ["run", "broken.ts"], 1, /^zkguest: build: broken\.ts:2:87: Unexpected "\)"$/],
      ["a limit that is not a positive integer", ["run", "hello.zkg", "--timeout-ms", "1.5"], 2, /^zkguest: usage: run: --timeout-ms takes a positive integer, got '1\.5' \(see 'zkguest help run'\)$/],
      ["a memory limit the engine cannot honour", ["run", "hello.zkg", "--memory-mb", "4194304"], 2, /^zkguest: usage: run: --memory-mb takes 1 to 1984 for a js guest \(the QuickJS module's 2 GiB memory, less the engine's 64 MiB\), got 4194304 \(see 'zkguest help run'\)$/],
      ["a time limit past what the host can wait", ["run", "hello.zkg", "--timeout-ms", "9999999999"], 2, /^zkguest: usage: run: --timeout-ms takes 1 to 2147483647 for a js guest \(.*\), got 9999999999 \(see 'zkguest help run'\)$/],
      ["an unknown command, even one named like an Object member", ["constructor"], 2, /^zkguest: usage: unknown command 'constructor' \(try 'zkguest help'\)$/],
    ];
    before(() => {
      fs.writeFileSync(path.join(dir, "catches.zkg"), "not an artifact");
      fs.writeFileSync(path.join(dir, "big.json"), `[${"0,".repeat(3 * 2 ** 20)}0]`);
      const nested = Buffer.alloc(60 * 2 ** 20, 0x91);
      nested[nested.length - 1] = 0xc0;
      fs.writeFileSync(path.join(dir, "nested.zkg"), nested);
    });
    for (const [what, argv, status, expected] of cases) {
      it(what, () => {
        const r = zkguest(argv, { cwd: dir });
        expect(r.stderr.trimEnd()).to.match(expected);
        expect(r.stderr.trimEnd().split("\n")).to.have.length(1);
        expect(r.status).to.equal(status);
      });
    }
  });
});
