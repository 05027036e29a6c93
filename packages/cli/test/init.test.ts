import { expect } from "chai";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { BIN, REPO, tempDir, zkguest } from "./cli-process.js";

describe("zkguest init", function () {
  this.timeout(60_000);
  let dir: string;
  let project: string;
  before(() => {
    dir = tempDir("init");
    project = path.join(dir, "My Guest");
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const npm = (args: string[]) => spawnSync("npm", [...args, "--silent"], { cwd: project, encoding: "utf8" });

  it("scaffolds a project that depends on this checkout's packages by file: paths", () => {
    const r = zkguest(["init", project], { cwd: dir });
    expect(r.stderr).to.equal("");
    expect(r.status).to.equal(0);
    expect(r.stdout.split("\n")[0]).to.equal("created My Guest/: package.json, tsconfig.json, controller.ts, test/tsconfig.json, test/controller.test.ts, README.md, .gitignore");
    expect(r.stdout.split("\n")[2]).to.equal("  cd 'My Guest' && npm install");
    const pkg = JSON.parse(fs.readFileSync(path.join(project, "package.json"), "utf8")) as {
      name: string;
      scripts: Record<string, string>;
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    expect(pkg.name).to.equal("my-guest");
    expect(pkg.scripts["build"]).to.equal("zkguest build controller.ts -o my-guest.zkg");
    for (const [dep, where] of [
      ["@zkguest/guest-sdk", "guest-sdk"],
      ["@zkguest/host-sdk", "host-sdk"],
      ["zkguest", "cli"],
    ] as const) {
      const spec = pkg.dependencies[dep] ?? pkg.devDependencies[dep]!;
      expect(spec).to.match(/^file:/);
      expect(path.resolve(project, spec.slice("file:".length))).to.equal(path.join(REPO, "packages", where));
    }
    // The tools' versions are this repository's, so the scaffold is tested with what it will get.
    const root = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")) as { devDependencies: Record<string, string> };
    for (const tool of ["typescript", "mocha", "chai", "@types/mocha", "@types/chai", "@types/node"]) {
      expect(pkg.devDependencies[tool], tool).to.equal(root.devDependencies[tool]);
    }
  });

  it("refuses a directory that is not empty", () => {
    const r = zkguest(["init", project], { cwd: dir });
    expect(r.stderr).to.equal("zkguest: already_exists: " + project + ": directory exists and is not empty\n");
    expect(r.status).to.equal(1);
  });

  it("its npm scripts build it with `zkguest build` and run it with `zkguest run`, storing the proof on its disk image", () => {
    // The repository's node_modules stands in for `npm install` (no network in the test).
    fs.symlinkSync(path.join(REPO, "node_modules"), path.join(project, "node_modules"), "dir");
    const build = npm(["run", "build"]);
    expect(build.status, build.stderr).to.equal(0);
    expect(build.stdout).to.match(/^my-guest\.zkg: js guest 'my-guest', /);
    const start = npm(["start"]);
    expect(start.status, start.stderr).to.equal(0);
    expect(start.stdout).to.match(/\[entrypoint\] +info +proof stored \{"bytes":\d+,"path":"\/var\/share\/proof\.bin"\}/);
    const stored = /\n {2}\/VAR\/SHARE\/PROOF\.BIN {2}(\d+) bytes/.exec(start.stdout);
    expect(stored, start.stdout).not.to.equal(null);
    const cat = spawnSync(process.execPath, [BIN, "fs", "cat", "my-guest.img", "/var/share/proof.bin"], { cwd: project });
    expect(cat.status, cat.stderr.toString()).to.equal(0);
    expect(cat.stdout.length).to.equal(Number(stored![1]));
  });

  it("type-checks and passes its own mocha test (against an in-process host)", () => {
    const test = npm(["test"]);
    expect(test.status, test.stdout + test.stderr).to.equal(0);
    expect(test.stdout).to.match(/3 passing/);
  });
});
