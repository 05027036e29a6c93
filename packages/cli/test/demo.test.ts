import { expect } from "chai";
import { zkguest } from "./cli-process.js";

describe("zkguest demo", function () {
  this.timeout(30_000);

  it("builds, deploys and proves examples/hello-js, and reads the stored proof back from the disk twice, in a few seconds", () => {
    const started = performance.now();
    const r = zkguest(["demo"]);
    const seconds = (performance.now() - started) / 1000;
    expect(r.stderr).to.equal("");
    expect(r.status).to.equal(0);
    const proofBytes = Number(/\n {2}proof +(\d+) bytes/.exec(r.stdout)?.[1]);
    expect(proofBytes).to.be.greaterThan(0);
    expect(r.stdout).to.match(/\[entrypoint\] +info +proof stored \{"bytes":\d+,"path":"\/var\/share\/proof\.bin"\}/);
    expect(r.stdout).to.include(`4. read    /var/share/proof.bin back from the disk: ${proofBytes} bytes, identical to the report's proof`);
    expect(r.stdout).to.include(`5. again   zkguest fs cat hello.img /var/share/proof.bin: the same ${proofBytes} bytes`);
    expect(r.stdout).to.include("a prover without dev mode refuses it");
    expect(seconds, "the README promises a demo of a few seconds").to.be.lessThan(5);
  });

  it("takes no arguments", () => {
    const r = zkguest(["demo", "extra"]);
    expect(r.status).to.equal(2);
    expect(r.stderr).to.equal("zkguest: usage: demo takes no arguments, got 1 argument (see 'zkguest help demo')\n");
  });
});
