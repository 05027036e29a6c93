import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import { tempDir, zkguest } from "./cli-process.js";

describe("zkguest demo", function () {
  this.timeout(30_000);
  let dir: string;

  before(() => {
    dir = tempDir("demo");
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("builds, deploys and proves the hello-js example, shows its witnesses, and reads the stored proof back from the disk twice, in a few seconds", () => {
    const started = performance.now();
    const r = zkguest(["demo", "--dir", dir]);
    const seconds = (performance.now() - started) / 1000;
    expect(r.stderr).to.equal("");
    expect(r.status).to.equal(0);
    const image = path.join(dir, "hello.img");
    const proofBytes = Number(/\n {2}proof +(\d+) bytes/.exec(r.stdout)?.[1]);
    expect(proofBytes).to.be.greaterThan(0);
    expect(r.stdout).to.match(/\[entrypoint\] +info +proof stored \{"bytes":\d+,"path":"\/var\/share\/proof\.bin"\}/);
    expect(r.stdout).to.include('witnesses proved:\n  0  data  31 bytes: "{\\"numbers\\":[3,5,8,13],\\"sum\\":29}"\n');
    expect(r.stdout).to.include(`4. read    /var/share/proof.bin back from the disk: ${proofBytes} bytes, identical to the report's proof`);
    expect(r.stdout).to.include(`5. again   zkguest fs cat ${image} /var/share/proof.bin: the same ${proofBytes} bytes`);
    expect(r.stdout).to.include("a prover without dev mode refuses it");
    expect(seconds, "the README promises a demo of a few seconds").to.be.lessThan(5);
    // The image it names outlives it: the command it prints works.
    expect(r.stdout).to.include(`The disk image is kept: zkguest fs ls ${image} /var/share`);
    const ls = zkguest(["fs", "ls", image, "/var/share"]);
    expect(ls.status, ls.stderr).to.equal(0);
    expect(ls.stdout).to.match(new RegExp(`^- +${proofBytes} .* PROOF\\.BIN\n$`));
  });

  it("does not run on a disk image left by an earlier run", () => {
    const r = zkguest(["demo", "--dir", dir]);
    expect(r.status).to.equal(1);
    expect(r.stderr).to.equal(`zkguest: already_exists: ${path.join(dir, "hello.img")}: the demo makes a new disk image; remove it or pass another --dir\n`);
  });

  it("takes no arguments", () => {
    const r = zkguest(["demo", "extra"]);
    expect(r.status).to.equal(2);
    expect(r.stderr).to.equal("zkguest: usage: demo takes no arguments, got 1 argument (see 'zkguest help demo')\n");
    const keys = zkguest(["demo", "--keys", dir]);
    expect(keys.status).to.equal(2);
    expect(keys.stderr).to.equal("zkguest: usage: demo: --keys is for --groth16 (the dev prover has no keys) (see 'zkguest help demo')\n");
  });
});
