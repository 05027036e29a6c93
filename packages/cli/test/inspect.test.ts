import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { BIN, REPO, tempDir, zkguest } from "./cli-process.js";

const HELLO = path.join(REPO, "examples/hello-js/controller.ts");

describe("zkguest inspect", function () {
  this.timeout(60_000);
  let dir: string;
  let id: string;
  before(() => {
    dir = tempDir("inspect");
    const built = zkguest(["build", HELLO, "-o", "hello.zkg"], { cwd: dir });
    if (built.status !== 0) throw new Error(built.stderr);
    id = /program id ([0-9a-f]{64})/.exec(built.stdout)![1]!;
    const run = zkguest(["run", "hello.zkg", "--args", '{"numbers":[1,2]}', "--image", "disk.img"], { cwd: dir });
    if (run.status !== 0) throw new Error(run.stderr);
    fs.writeFileSync(path.join(dir, "proof.bin"), execFileSync(process.execPath, [BIN, "fs", "cat", "disk.img", "/var/share/proof.bin"], { cwd: dir }));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("shows a .zkg's manifest and code size, as lines and as --json", () => {
    const r = zkguest(["inspect", "hello.zkg"], { cwd: dir });
    expect(r.stderr).to.equal("");
    expect(r.status).to.equal(0);
    expect(r.stdout).to.match(/^hello\.zkg: guest artifact \(zkguest-artifact\/1\), [\d,]+ bytes\n/);
    expect(r.stdout).to.include("\n  name       hello\n  engine     js\n  protocol   1.0 to 1.1\n");
    expect(r.stdout).to.include(`\n  id         ${id}\n`);
    expect(r.stdout).to.match(/\n {2}sdk +@zkguest\/guest-sdk@[\d.]+\n {2}circuit +none\n {2}code +[\d,]+ bytes\n {2}source map +[\d,]+ bytes\n$/);
    const json = JSON.parse(zkguest(["inspect", "hello.zkg", "--json"], { cwd: dir }).stdout) as { kind: string; manifest: Record<string, unknown>; codeBytes: number; bytes: number };
    expect(json.kind).to.equal("artifact");
    expect(json.manifest).to.deep.include({ name: "hello", engine: "js", id, protocol: { min: [1, 0], max: [1, 1] } });
    expect(json.codeBytes).to.be.greaterThan(1000).and.lessThan(json.bytes);
    expect(json.bytes).to.equal(fs.statSync(path.join(dir, "hello.zkg")).size);
  });

  it("shows a dev proof read back from the disk: the program it is for, and that it proves nothing", () => {
    const r = zkguest(["inspect", "proof.bin"], { cwd: dir });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.match(new RegExp(`^proof\\.bin: development proof \\(zkguest-dev-proof/1\\): it proves nothing\\n {2}program +${id}\\n {2}digest +[0-9a-f]{64} `));
    const json = JSON.parse(zkguest(["inspect", "proof.bin", "--json"], { cwd: dir }).stdout) as Record<string, unknown>;
    expect(json).to.include({ kind: "dev-proof", format: "zkguest-dev-proof/1", program: id });
  });

  it("shows a groth16 proof envelope: program, circuit, key, ceremony, public signals", () => {
    const h = (c: string) => c.repeat(64);
    const envelope = {
      format: "zkguest-groth16-proof/1", program: h("a"), circuit: h("b"), vkey: h("c"), ceremony: "dev",
      proof: { pi_a: ["1", "2", "1"], pi_b: [["1", "2"], ["3", "4"], ["1", "0"]], pi_c: ["5", "6", "1"], protocol: "groth16", curve: "bn128" },
      publicSignals: ["29", "7"],
    };
    fs.writeFileSync(path.join(dir, "g16.json"), JSON.stringify(envelope));
    const r = zkguest(["inspect", "g16.json"], { cwd: dir });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.equal(
      [
        "g16.json: groth16 proof (zkguest-groth16-proof/1), bn128",
        `  program    ${h("a")}`,
        `  circuit    sha256 ${h("b")}`,
        `  vkey       sha256 ${h("c")} (the verification key it verifies against)`,
        "  ceremony   dev (INSECURE: keys from a local development ceremony)",
        '  public     ["29","7"]',
        "",
      ].join("\n"),
    );
    expect(JSON.parse(zkguest(["inspect", "g16.json", "--json"], { cwd: dir }).stdout)).to.deep.equal({ kind: "groth16-proof", ...envelope });
  });

  it("a file that is none of these, a directory or a missing file: one typed line, exit 1", () => {
    fs.writeFileSync(path.join(dir, "garbage"), "garbage\n\x1b[31m");
    fs.writeFileSync(path.join(dir, "other.json"), '{"format":"x"}');
    const cases: [string, RegExp][] = [
      ["garbage", /^zkguest: malformed_frame: garbage: not a zkguest artifact or proof \(not a zkguest artifact: .*\)\n$/],
      ["other.json", /^zkguest: malformed_frame: other\.json: not a zkguest-groth16-proof\/1 proof: program is missing or of the wrong type\n$/],
      [".", /^zkguest: not_found: \.: not a file \(a directory\)\n$/],
      ["nothere.zkg", /^zkguest: not_found: nothere\.zkg: no such file\n$/],
    ];
    for (const [file, expected] of cases) {
      const r = zkguest(["inspect", file], { cwd: dir });
      expect(r.stdout, file).to.equal("");
      expect(r.stderr, file).to.match(expected);
      expect(r.status, file).to.equal(1);
    }
  });
});
