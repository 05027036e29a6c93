import { expect } from "chai";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

// The conformance kits as a user runs them: `zkguest conformance guest|host`, on our
// implementations (which pass) and on a broken guest (which fails, exit 1). The kits'
// own tests, with every broken fixture, are in packages/host-sdk/test/conformance-*.test.ts.

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const BIN = path.join(root, "packages/cli/bin/zkguest.js");

interface Result {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

function zkguest(...args: string[]): Result {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: root, encoding: "utf8", maxBuffer: 16 * 2 ** 20 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

interface Table {
  readonly passed: boolean;
  readonly results: { check: string; result: "pass" | "fail" | "skip"; detail: string }[];
}

function table(r: Result): Table {
  expect(r.stderr, "stderr").to.equal("");
  return JSON.parse(r.stdout) as Table;
}

function requireClang(ctx: Mocha.Context): void {
  if (spawnSync(process.env.CC ?? "clang", ["--version"]).error) {
    console.warn("    skipped: clang is not installed (install clang, lld, wasi-libc, libclang-rt-14-dev-wasm32)");
    ctx.skip();
  }
}

describe("zkguest conformance", function () {
  this.timeout(60_000);
  let dir: string;

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), "zkguest-conformance-cli-"));
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it("host: our host-sdk passes, and the table says so", function () {
    requireClang(this);
    const r = zkguest("conformance", "host");
    expect(r.status, r.stdout + r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^host conformance: @zkguest\/host-sdk Host/);
    expect(r.stdout).to.match(/^invalid_name: 4-character extension +\| pass +\| error invalid_name: PROOF\.JSON: extension 'JSON' has 4 characters/m);
    expect(r.stdout).to.match(/\n\d+ checks: \d+ passed, 0 failed, 0 skipped\n$/);
  });

  it("guest: the C example and the C conformance guest pass (as .wasm, and as a .zkg)", function () {
    requireClang(this);
    const example = path.join(dir, "example.wasm");
    const reference = path.join(dir, "reference.wasm");
    execFileSync("sh", [path.join(root, "examples/c-guest/build.sh"), example], { stdio: "pipe" });
    execFileSync("sh", [path.join(root, "examples/conformance-guest/build.sh"), reference], { stdio: "pipe" });
    const artifact = path.join(dir, "reference.zkg");
    expect(zkguest("build", reference, "-o", artifact).status).to.equal(0);
    for (const guest of [example, artifact]) {
      const r = zkguest("conformance", "guest", guest, "--json");
      expect(r.status, r.stdout).to.equal(0);
      expect(table(r).results.filter((x) => x.result === "fail")).to.deep.equal([]);
    }
  });

  it("guest: a controller that swallows host errors fails, exit 1", () => {
    const controller = path.join(dir, "swallow.ts");
    writeFileSync(
      controller,
      `import { defineController, fs, log } from "@zkguest/guest-sdk";
export default defineController({
  getWitnesses() { return []; },
  entrypoint(result) {
    try { fs.store("/var/share/proof.bin", result.proof ?? new Uint8Array()); } catch {}
    log.info("proof stored");
  },
});
`,
    );
    const r = zkguest("conformance", "guest", controller);
    expect(r.status, r.stdout + r.stderr).to.equal(1);
    expect(r.stdout).to.match(/^file error quota_exceeded +\| fail +\| 1 file request\(s\) failed with quota_exceeded, yet the guest answered ok nil, then ok nil and logged nothing naming it$/m);
  });

  it("usage: a kit must be named", () => {
    const r = zkguest("conformance");
    expect(r.status).to.equal(2);
    expect(r.stderr).to.equal("zkguest: usage: conformance takes 'guest GUEST' or 'host' (see 'zkguest help conformance')\n");
  });
});
