import { programIdOf, readArtifact } from "@zkguest/host-sdk";
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
    // The program id covers the code and its source map.
    expect(artifact.sourceMap).to.be.instanceOf(Uint8Array);
    expect(artifact.manifest.id).to.equal(programIdOf(artifact.code, undefined, artifact.sourceMap));
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

  describe("the same project gives the same bytes wherever it is built, with no path of the machine in them", () => {
    /** A project with a package.json, its controller in src/ importing a module beside it; the SDK is the CLI's own. */
    const PROJECT = {
      "package.json": `{ "name": "moved", "private": true }\n`,
      "src/controller.ts": `import { defineController } from "@zkguest/guest-sdk";\nimport { twice } from "./util.js";\nexport default defineController({ getWitnesses: (a: { n: number }) => [{ type: "data", data: new Uint8Array([twice(a.n)]) }], entrypoint() {} });\n`,
      "src/util.ts": "export function twice(n: number): number {\n  return 2 * n;\n}\n",
    };
    for (const flags of [[], ["--no-minify"]]) {
      it(flags.length === 0 ? "minified" : "with --no-minify", () => {
        const [first, second] = [tempDir("build-here"), tempDir("build-there")];
        try {
          writeFiles(first, PROJECT);
          writeFiles(second, PROJECT);
          // One from inside its project, the other from the repository's root.
          const a = zkguest(["build", "src/controller.ts", "-o", "out.zkg", ...flags], { cwd: first });
          const b = zkguest(["build", path.join(second, "src/controller.ts"), "-o", path.join(second, "out.zkg"), ...flags]);
          expect(a.status, a.stderr).to.equal(0);
          expect(b.status, b.stderr).to.equal(0);
          const bytes = fs.readFileSync(path.join(first, "out.zkg"));
          expect(bytes.equals(fs.readFileSync(path.join(second, "out.zkg")))).to.equal(true);
          const text = bytes.toString("latin1");
          for (const where of [first, second, REPO, path.dirname(first)]) expect(text).not.to.include(where);
          const map = JSON.parse(Buffer.from(readArtifact(bytes).sourceMap!).toString("utf8")) as { sources: string[]; sourcesContent?: unknown };
          expect(map.sources).to.include.members(["src/controller.ts", "src/util.ts", "package:@zkguest/guest-sdk/dist/src/session.js"]);
          expect(map).not.to.have.property("sourcesContent");
        } finally {
          for (const d of [first, second]) fs.rmSync(d, { recursive: true, force: true });
        }
      });
    }
  });

  it("--no-minify also writes the bundle beside the artifact, to read; --no-source-map leaves the map out", () => {
    writeFiles(dir, { "readable/hello.ts": fs.readFileSync(HELLO, "utf8") });
    const cwd = path.join(dir, "readable");
    const r = zkguest(["build", "hello.ts", "--no-minify"], { cwd });
    expect(r.status, r.stderr).to.equal(0);
    const artifact = readArtifact(fs.readFileSync(path.join(cwd, "hello.zkg")));
    const bundle = fs.readFileSync(path.join(cwd, "hello.bundle.js"));
    expect(r.stdout.split("\n")[1]).to.equal(`hello.bundle.js: its code, unminified, ${bundle.length.toLocaleString("en-US")} bytes`);
    expect(bundle.equals(artifact.code)).to.equal(true);
    // The controller as it was written, less its types, under a comment naming it.
    expect(bundle.toString("utf8")).to.include("// hello.ts\nvar PROOF_PATH = \"/var/share/proof.bin\";\n");
    expect(zkguest(["build", "--help"]).stdout).to.match(/--no-minify +do not minify, and write the bundle beside the artifact too/);

    expect(zkguest(["build", "hello.ts", "-o", "plain.zkg", "--no-source-map"], { cwd }).status).to.equal(0);
    const plain = readArtifact(fs.readFileSync(path.join(cwd, "plain.zkg")));
    expect(plain.sourceMap).to.equal(undefined);
    expect(fs.existsSync(path.join(cwd, "plain.bundle.js"))).to.equal(false);
    // Never over the controller itself.
    writeFiles(cwd, { "app.bundle.js": MINIMAL });
    const over = zkguest(["build", "app.bundle.js", "-o", "app.zkg", "--no-minify"], { cwd });
    expect(over.status).to.equal(2);
    expect(over.stderr).to.match(/^zkguest: usage: build: --no-minify would write the bundle over app\.bundle\.js; choose another -o /);
    expect(fs.readFileSync(path.join(cwd, "app.bundle.js"), "utf8")).to.equal(MINIMAL);
    // Without a map the program id is the code's SHA-256, as before maps.
    expect(plain.manifest.id).to.equal(createHash("sha256").update(plain.code).digest("hex"));
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
