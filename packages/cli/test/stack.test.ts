import { TestHost } from "@zkguest/host-sdk/testing";
import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import { buildArtifact } from "../src/guest-artifact.js";
import { tempDir, writeFiles, zkguest } from "./cli-process.js";

/** A controller that throws from a function of its own: line 6, column 15 is `RangeError`; getWitnesses calls it on line 13. */
const CONTROLLER = `import { defineController } from "@zkguest/guest-sdk";

/** Refuses numbers over 2. */
function check(n: number): number {
  if (n > 2) {
    throw new RangeError(\`too big: \${n}\`);
  }
  return n;
}

export default defineController<{ n: number }>({
  getWitnesses(args) {
    return [{ type: "data", data: new Uint8Array([check(args.n)]) }];
  },
  entrypoint() {},
});
`;

/** The first two frames of the stack: in check, then in getWitnesses, in the controller's own file. */
const MAPPED = /at \S+ \(controller\.ts:6:15\)\n +at getWitnesses \(controller\.ts:13:\d+\)\n/;

describe("a JS guest's failure names the controller's file, line and column", function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = tempDir("stack");
    writeFiles(dir, { "package.json": `{ "name": "thrower", "private": true }\n`, "controller.ts": CONTROLLER });
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("zkguest run prints the mapped stack, built on the fly or from a .zkg, from any directory", () => {
    const run = zkguest(["run", "controller.ts", "--args", '{"n":5}'], { cwd: dir });
    expect(run.status).to.equal(1);
    expect(run.stderr).to.equal("zkguest: guest_error: RangeError: too big: 5\n");
    expect(run.stdout).to.match(MAPPED);
    expect(run.stdout).not.to.include("guest.js");

    expect(zkguest(["build", "controller.ts", "-o", "thrower.zkg"], { cwd: dir }).status).to.equal(0);
    // Paths are the project's, not the working directory's.
    const json = zkguest(["run", path.join(dir, "thrower.zkg"), "--args", '{"n":5}', "--json"]);
    const report = JSON.parse(json.stdout) as { error: { code: string; stack: string } };
    expect(report.error.code).to.equal("guest_error");
    expect(report.error.stack).to.match(MAPPED);
  });

  it("a guest author's test through the API (buildArtifact, testHost) gets the mapped stack", async () => {
    const host = new TestHost();
    try {
      const guest = await buildArtifact(path.join(dir, "controller.ts"), "thrower");
      const run = await host.execute(guest, { n: 5 });
      expect(run.status).to.equal("failed");
      expect(run.error?.stack).to.match(MAPPED);
      // Without the map, the same code's frames are in the bundle.
      const plain = await host.execute(await buildArtifact(path.join(dir, "controller.ts"), "thrower", { sourceMap: false }), { n: 5 });
      expect(plain.error?.stack).to.match(/^ +at \S+ \(guest\.js:1:\d+\)\n/);
    } finally {
      await host.close();
    }
  });
});
