import { expect } from "chai";
import path from "node:path";
import type { Witness } from "@zkguest/protocol";
import { createArtifact } from "../src/artifact.js";
import { Host } from "../src/host.js";
import { DevProver } from "../src/prover/dev-prover.js";
import type { ProgramRef, Prover } from "../src/prover/prover.js";
import { tempDir } from "./host-fixtures.js";
import { bundleController, bundleSource } from "./quickjs-helpers.js";

// Issue 8's attacks at the level of a Host, each followed by a run that must be served: the
// host's process survives whatever a guest does, and what it keeps per program is bounded.

const MiB = 1024 * 1024;

async function jsArtifact(name: string, source: string): Promise<Uint8Array> {
  return createArtifact({ name, engine: "js", code: await bundleSource(source), protocol: { min: [1, 0], max: [1, 0] } }).bytes;
}

const THROWS_HUGE = (bytes: number) => `
  import { defineController, serve } from "@zkguest/guest-sdk";
  serve(defineController({ getWitnesses() { throw new Error("x".repeat(${bytes})); }, entrypoint() {} }));`;

describe("host isolation: no guest can end the host or grow what it keeps", function () {
  this.timeout(60_000);
  let tmp: ReturnType<typeof tempDir>;
  let hello: Uint8Array;

  before(async () => {
    tmp = tempDir("zkguest-isolation-");
    hello = createArtifact({ name: "hello", engine: "js", code: await bundleController("examples/hello-js/controller.ts"), protocol: { min: [1, 0], max: [1, 0] } }).bytes;
  });
  after(() => tmp?.remove());

  async function withHost(options: Parameters<typeof Host.create>[0], body: (host: Host) => Promise<void>): Promise<void> {
    const host = await Host.create({ dataDir: path.join(tmp.dir, `data-${Math.random().toString(36).slice(2)}`), devMode: true, ...options });
    try {
      await body(host);
      const program = await host.deploy(hello);
      expect((await host.prove(program, { numbers: [1, 2] })).status, "the host proves a well-behaved guest afterwards").to.equal("proved");
    } finally {
      await host.close();
    }
  }

  it("a guest throwing a 20 MB message under a 48 MiB sandbox heap: a failed run, not a dead host", async () => {
    await withHost({ poolSize: 1, workerHeapBytes: 48 * MiB }, async (host) => {
      const report = await host.prove(await host.deploy(await jsArtifact("huge-20", THROWS_HUGE(20e6))), null);
      expect(report.status).to.equal("failed");
      expect(report.error?.code).to.be.oneOf(["guest_error", "limit_exceeded", "internal"]);
    });
  });

  it("a guest throwing a 180 MB message under a 768 MiB memory limit: a failed run, not a dead host", async () => {
    await withHost({ poolSize: 1, limits: { memoryBytes: 768 * MiB, timeMs: 20_000 } }, async (host) => {
      const report = await host.prove(await host.deploy(await jsArtifact("huge-180", THROWS_HUGE(180e6))), null);
      expect(report.status).to.equal("failed");
      expect(report.error?.code).to.be.oneOf(["guest_error", "limit_exceeded", "internal"]);
    });
  });

  it("7 programs of 40 MB each, proved in turn on one sandbox: every run succeeds (its cache is weighed in bytes)", async () => {
    const comment = `/*${"c".repeat(40e6)}*/`;
    await withHost({ poolSize: 1, artifactCacheBytes: 64 * MiB }, async (host) => {
      for (let i = 0; i < 7; i++) {
        const code = new TextEncoder().encode(`${new TextDecoder().decode(await bundleController("examples/hello-js/controller.ts"))}\n${comment}//${i}`);
        const program = await host.deploy(createArtifact({ name: `big-${i}`, engine: "js", code, protocol: { min: [1, 0], max: [1, 0] } }).bytes);
        const report = await host.prove(program, { numbers: [i] });
        expect(report.status, `program ${i}: ${report.error?.message}`).to.equal("proved");
        const cached = (host as unknown as { artifacts: { weight: number } }).artifacts.weight;
        expect(cached, "artifacts kept in memory").to.be.at.most(64 * MiB + 41e6);
      }
    });
  });

  it("proving holds no disk: 10 proofs of one program with a 200 ms prover take about one proving, entrypoints in order", async () => {
    const dev = new DevProver({ devMode: true });
    const slow: Prover = {
      name: "slow",
      prove: async (witnesses: readonly Witness[], program: ProgramRef) => {
        await new Promise((r) => setTimeout(r, 200));
        return dev.prove(witnesses, program);
      },
      verify: (proof, program, witnesses) => dev.verify(proof, program, witnesses),
    };
    await withHost({ poolSize: 2, prover: slow }, async (host) => {
      const program = await host.deploy(
        await jsArtifact(
          "counter",
          `import { defineController, fs, encodeUtf8, decodeUtf8, serve } from "@zkguest/guest-sdk";
           serve(defineController({
             getWitnesses(args) { return [{ type: "data", data: encodeUtf8(String(args)) }]; },
             entrypoint(result) {
               let seen = ""; try { seen = decodeUtf8(fs.read("/ORDER.TXT")); } catch (e) { if (e.code !== "not_found") throw e; }
               fs.store("/ORDER.TXT", seen + result.args + ",");
             },
           }));`,
        ),
      );
      await host.prove(program, -1); // compiled and snapshotted in a sandbox
      const started = performance.now();
      const reports = await Promise.all(Array.from({ length: 10 }, (_, i) => host.prove(program, i)));
      const ms = performance.now() - started;
      for (const r of reports) expect(r.status, r.error?.message).to.equal("proved");
      expect(ms, "10 proofs of 200 ms each, in parallel").to.be.below(1_500);
      const order = new TextDecoder().decode(await host.readFile(program, "/ORDER.TXT"));
      expect(order).to.equal("-1,0,1,2,3,4,5,6,7,8,9,");
    });
  });
});
