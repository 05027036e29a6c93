import { expect } from "chai";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { REPO, tempDir, zkguest } from "./cli-process.js";

describe("zkguest init", function () {
  this.timeout(60_000);
  let dir: string;
  let project: string;
  before(() => {
    dir = tempDir("init");
    project = path.join(dir, "My Guest");
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("scaffolds a project that depends on this checkout's packages by file: paths", () => {
    const r = zkguest(["init", project], { cwd: dir });
    expect(r.stderr).to.equal("");
    expect(r.status).to.equal(0);
    expect(r.stdout.split("\n")[0]).to.equal("created My Guest/: package.json, tsconfig.json, controller.ts, test/controller.test.ts, README.md, .gitignore");
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

  it("builds with `zkguest build` and runs with `zkguest run`, storing the proof", () => {
    const build = zkguest(["build", "controller.ts", "-o", "my-guest.zkg"], { cwd: project });
    expect(build.status, build.stderr).to.equal(0);
    const run = zkguest(["run", "my-guest.zkg", "--args", '{"numbers":[1,2,3]}'], { cwd: project });
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stdout).to.match(/\[entrypoint\] +info +proof stored \{"bytes":\d+,"path":"\/var\/share\/proof\.bin"\}/);
    expect(run.stdout).to.match(/\nstored:\n {2}\/VAR\/SHARE\/PROOF\.BIN /);
  });

  it("type-checks and passes its own mocha test (against an in-process host)", () => {
    // The repository's node_modules stands in for `npm install` (no network in the test).
    fs.symlinkSync(path.join(REPO, "node_modules"), path.join(project, "node_modules"), "dir");
    const test = spawnSync("npm", ["test", "--silent"], { cwd: project, encoding: "utf8" });
    expect(test.status, test.stdout + test.stderr).to.equal(0);
    expect(test.stdout).to.match(/3 passing/);
  });
});
