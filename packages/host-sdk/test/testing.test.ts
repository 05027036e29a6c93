import { expect } from "chai";
import { existsSync } from "node:fs";
import path from "node:path";
import { PROTOCOL_VERSION } from "@zkguest/protocol";
import { createArtifact } from "../src/artifact.js";
import { either as E } from "fp-ts";
import { failure, type Failure, type ProgramRef, type Prover, type Witness } from "../src/index.js";
import { TestHost } from "../src/testing/test-host.js";
import { JS_CONFORMANCE_CONTROLLER } from "./conformance-fixtures.js";
import { exampleGuestWasm, requireClang } from "./host-fixtures.js";
import { bundleController, bundleSource, repoRoot } from "./quickjs-helpers.js";

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

  describe("with a prover of one's own: the entrypoint can tell a failed witness step from a failed proof", () => {
    /** Records what the entrypoint received; the witness step fails when args.fail is set. */
    const RECORDING = `
import { defineController, fs, serve } from "@zkguest/guest-sdk";
serve(defineController({
  getWitnesses(args) {
    if (args.fail) throw new RangeError("no witnesses for you");
    return [{ type: "data", data: new Uint8Array([1, 2, 3]) }];
  },
  entrypoint(result) {
    fs.store("/result.jsn", JSON.stringify({ success: result.success, stage: result.stage ?? null, error: result.error ?? null }));
  },
}));`;

    /** A Prover built only from what @zkguest/host-sdk exports; it fails, as a real prover can. */
    class RefusingProver implements Prover {
      readonly name = "refusing";
      seen: readonly Witness[] = [];
      async prove(witnesses: readonly Witness[], _program: ProgramRef): Promise<E.Either<Failure, Uint8Array>> {
        this.seen = witnesses;
        return E.left(failure("internal", "the refusing prover refuses"));
      }
      async verify(): Promise<E.Either<Failure, void>> {
        return E.left(failure("internal", "nothing verifies"));
      }
      describe(): undefined {
        return undefined;
      }
    }

    const prover = new RefusingProver();
    const host = new TestHost({ prover, limits: { timeMs: 10_000 } });
    after(() => host.close());

    const received = async (args: { fail: boolean }) => {
      const code = await bundleSource(RECORDING);
      const artifact = createArtifact({ name: "recording", engine: "js", code, protocol: { min: PROTOCOL_VERSION, max: PROTOCOL_VERSION } });
      const run = await host.prove(artifact, args);
      expect(run.status).to.equal("failed");
      return { run, result: JSON.parse(new TextDecoder().decode(await run.readFile("/result.jsn"))) as { success: boolean; stage: string | null; error: { code: string; message: string } } };
    };

    it("the prover failed: stage 'prove', the prover's error; the prover got the witnesses", async () => {
      const { result } = await received({ fail: false });
      expect(result).to.deep.equal({ success: false, stage: "prove", error: { code: "internal", message: "the refusing prover refuses" } });
      expect(prover.seen).to.have.length(1);
    });

    it("the witness step failed: stage 'witness', the witness step's error; the prover was not called", async () => {
      prover.seen = [];
      const { result } = await received({ fail: true });
      expect(result.success).to.equal(false);
      expect(result.stage).to.equal("witness");
      expect(result.error.code).to.equal("guest_error");
      expect(result.error.message).to.match(/RangeError: no witnesses for you/);
      expect(prover.seen).to.deep.equal([]);
    });
  });
});
