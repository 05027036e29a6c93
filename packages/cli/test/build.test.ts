import { readArtifact } from "@zkguest/host-sdk";
import { expect } from "chai";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { REPO, tempDir, writeFiles, zkguest } from "./cli-process.js";

const HELLO = path.join(REPO, "examples/hello-js/controller.ts");

/** A controller that compiles, outside any npm project (the CLI's own SDK is used). */
const MINIMAL = `import { defineController } from "@zkguest/guest-sdk";
export default defineController({ getWitnesses: () => [], entrypoint() {} });
`;

describe("zkguest build", function () {
  this.timeout(30_000);
  let dir: string;
  before(() => {
    dir = tempDir("build");
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("bundles a controller with the SDK into an artifact named after -o", () => {
    const out = path.join(dir, "hello.zkg");
    const r = zkguest(["build", HELLO, "-o", out]);
    expect(r.stderr).to.equal("");
    expect(r.status).to.equal(0);
    const artifact = readArtifact(fs.readFileSync(out));
    expect(r.stdout).to.equal(`${path.relative(REPO, out)}: js guest 'hello', ${fs.statSync(out).size.toLocaleString("en-US")} bytes, program id ${artifact.manifest.id}\n`);
    expect(artifact.manifest).to.deep.include({ name: "hello", engine: "js", protocol: { min: [1, 0], max: [1, 1] }, sdk: "@zkguest/guest-sdk@0.1.0" });
    expect(artifact.manifest.id).to.equal(createHash("sha256").update(artifact.code).digest("hex"));
    const code = Buffer.from(artifact.code).toString("utf8");
    // One self-contained script: the SDK is inlined and serves the controller through the transport.
    expect(code).to.include("__zkguest_handle");
    expect(code).not.to.match(/\bimport\s*[\s{*"(]/);
  });

  it("gives the same program id for the same source, and names the artifact after the file by default", () => {
    writeFiles(dir, { "again/minimal.ts": MINIMAL });
    const first = zkguest(["build", "minimal.ts"], { cwd: path.join(dir, "again") });
    expect(first.status, first.stderr).to.equal(0);
    expect(first.stdout).to.match(/^minimal\.zkg: js guest 'minimal', /);
    const second = zkguest(["build", "minimal.ts", "-o", "copy.zkg"], { cwd: path.join(dir, "again") });
    const id = (s: string) => /program id ([0-9a-f]{64})/.exec(s)?.[1];
    expect(id(second.stdout)).to.equal(id(first.stdout)).and.to.be.a("string");
  });

  it("wraps a WebAssembly module as a wasm artifact", () => {
    const wasm = path.join(dir, "empty.wasm");
    fs.writeFileSync(wasm, Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00));
    const r = zkguest(["build", wasm, "-o", path.join(dir, "empty.zkg")]);
    expect(r.status, r.stderr).to.equal(0);
    expect(readArtifact(fs.readFileSync(path.join(dir, "empty.zkg"))).manifest).to.deep.include({ name: "empty", engine: "wasm" });
  });

  describe("errors are one line each on stderr, exit 1, and no artifact is written", () => {
    const cases: [string, Record<string, string>, RegExp][] = [
      ["a syntax error", { "bad.ts": "const a: number = ;\nexport default a;\n" }, /^zkguest: build: bad\.ts:1:19: Unexpected ";"\n$/],
      ["a missing import", { "bad.ts": `import { x } from "./nowhere.js";\nconsole.log(x);\n${MINIMAL}` }, /^zkguest: build: bad\.ts:1:19: Could not resolve "\.\/nowhere\.js"\n$/],
      ["no default export", { "bad.ts": "export const c = 1;\n" }, /^zkguest: build: bad\.ts: has no default export \(write `export default defineController/],
      ["a .wasm file that is not WebAssembly", { "bad.wasm": "hello" }, /^zkguest: build: bad\.wasm: not a WebAssembly module/],
    ];
    for (const [what, files, expected] of cases) {
      it(what, () => {
        const cwd = tempDir("build-bad");
        try {
          writeFiles(cwd, files);
          const r = zkguest(["build", Object.keys(files)[0]!, "-o", "out.zkg"], { cwd });
          expect(r.stderr).to.match(expected);
          expect(r.stderr.split("\n")).to.have.length(2);
          expect(r.status).to.equal(1);
          expect(fs.existsSync(path.join(cwd, "out.zkg"))).to.equal(false);
        } finally {
          fs.rmSync(cwd, { recursive: true, force: true });
        }
      });
    }

    it("a missing file", () => {
      const r = zkguest(["build", path.join(dir, "nothere.ts")]);
      expect(r.stderr).to.match(/^zkguest: not_found: .*nothere\.ts: no such file\n$/);
      expect(r.status).to.equal(1);
    });
  });

  it("usage errors exit 2: no input, an unknown option, an input that is neither a controller nor wasm", () => {
    for (const argv of [["build"], ["build", HELLO, "--nope"], ["build", "README.md"]]) {
      const r = zkguest(argv);
      expect(r.status, argv.join(" ")).to.equal(2);
      expect(r.stderr, argv.join(" ")).to.match(/^zkguest: usage: /);
    }
  });
});
