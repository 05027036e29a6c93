import { expect } from "chai";
import { existsSync } from "node:fs";
import path from "node:path";
import { PROTOCOL_VERSION } from "@zkguest/protocol";
import { createArtifact } from "../src/artifact.js";
import { TestHost } from "../src/testing/test-host.js";
import { JS_CONFORMANCE_CONTROLLER } from "./conformance-fixtures.js";
import { exampleGuestWasm, requireClang } from "./host-fixtures.js";
import { bundleController, repoRoot } from "./quickjs-helpers.js";

const PROOF = "/var/share/proof.bin";

describe("testing: the in-process host for guest authors' tests", function () {
  this.timeout(60_000);
  const testHost = new TestHost();

  after(() => testHost.close());

  it("proves a JS controller's artifact; the proof is on the run's disk", async () => {
    const code = await bundleController(JS_CONFORMANCE_CONTROLLER);
    const artifact = createArtifact({ name: "conformance", engine: "js", code, protocol: { min: PROTOCOL_VERSION, max: PROTOCOL_VERSION } });
    const run = await testHost.prove(artifact, { numbers: [1, 2, 3] });
    expect(run.status, run.error?.message).to.equal("proved");
    expect(run.logs.map((l) => l.message)).to.include("proof stored");
    expect(await run.readFile(PROOF)).to.deep.equal(run.proof);
  });

  it("runs a .wasm module by path, each run on a fresh disk unless given a previous run's image", async function () {
    requireClang(this);
    exampleGuestWasm();
    const wasm = path.join(repoRoot, "examples/c-guest/build/guest.wasm");
    const proved = await testHost.prove(wasm, { block: 1 });
    expect(proved.status, proved.error?.message).to.equal("proved");
    const fresh = await testHost.execute(wasm, { block: 2 });
    expect(fresh.status).to.equal("executed");
    let missing: unknown;
    await fresh.readFile(PROOF).catch((e: unknown) => (missing = e));
    expect(missing).to.deep.include({ code: "not_found" });
    const again = await testHost.execute(wasm, { block: 3 }, { image: proved.image });
    expect(await again.readFile(PROOF)).to.deep.equal(proved.proof);
  });

  it("a run past a limit is a failed report with the limit named", async function () {
    requireClang(this);
    const run = await testHost.prove(path.join(repoRoot, "examples/c-guest/build/guest.wasm"), null, { limits: { memoryBytes: 65536 } });
    expect(run.status).to.equal("failed");
    expect(run.error).to.deep.include({ code: "limit_exceeded", limit: "memory" });
  });

  it("refuses a guest it cannot run, naming what it takes", async () => {
    let thrown: unknown;
    await testHost.prove("controller.ts", null).catch((e: unknown) => (thrown = e));
    expect(thrown).to.deep.include({ code: "invalid_path" });
    expect((thrown as Error).message).to.match(/runs a \.zkg artifact or a \.wasm module; build a controller with buildArtifact/);
  });

  it("close() removes its disks; the next run starts a new host", async () => {
    const code = await bundleController(JS_CONFORMANCE_CONTROLLER);
    const artifact = createArtifact({ name: "conformance", engine: "js", code, protocol: { min: PROTOCOL_VERSION, max: PROTOCOL_VERSION } });
    const before = await testHost.execute(artifact, null);
    expect(existsSync(before.image)).to.equal(true);
    await testHost.close();
    expect(existsSync(before.image)).to.equal(false);
    expect((await testHost.execute(artifact, null)).status).to.equal("executed");
  });
});
