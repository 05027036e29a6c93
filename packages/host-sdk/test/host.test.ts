import { expect } from "chai";
import { either as E } from "fp-ts";
import { existsSync } from "node:fs";
import path from "node:path";
import { lockImage, Volume } from "@zkguest/fat16";
import { failure, type Failure, type Value } from "@zkguest/protocol";
import { createArtifact } from "../src/artifact.js";
import { Host } from "../src/host.js";
import { DevProver, readDevProof } from "../src/prover/dev-prover.js";
import type { Prover } from "../src/prover/prover.js";
import type { RunReport } from "../src/report.js";
import { LimitRangeError } from "../src/run-limits.js";
import { exampleGuestWasm, request, requireClang, script, scriptGuestWasm, tempDir, wasmArtifact } from "./host-fixtures.js";
import { bundleController, bundleSource } from "./quickjs-helpers.js";

const READY = request("witness.ready", { witnesses: [{ type: "data", data: new Uint8Array([9]) }] });

/** The messages of the report's logs, as `source level: message`, for comparing in one go. */
const lines = (report: RunReport) => report.logs.map((l) => `${l.phase} ${l.source} ${l.level}: ${l.message}`);

function jsArtifact(name: string, code: Uint8Array): Uint8Array {
  return createArtifact({ name, engine: "js", code, protocol: { min: [1, 0], max: [1, 0] } }).bytes;
}

describe("host: the proof lifecycle", function () {
  this.timeout(20_000);
  let tmp: ReturnType<typeof tempDir>;
  let host: Host;
  let cProgram: string;
  let scriptProgram: string;
  let jsProgram: string;

  before(async function () {
    this.timeout(120_000);
    requireClang(this);
    tmp = tempDir("zkguest-host-");
    host = await Host.create({ dataDir: path.join(tmp.dir, "data"), devMode: true, poolSize: 2, limits: { timeMs: 2_000 } });
    cProgram = await host.deploy(wasmArtifact("c-example", exampleGuestWasm()));
    scriptProgram = await host.deploy(wasmArtifact("script", scriptGuestWasm()));
    jsProgram = await host.deploy(jsArtifact("hello-js", await bundleController("examples/hello-js/controller.ts")));
  });

  after(async () => {
    await host?.close();
    tmp?.remove();
  });

  describe("a C guest (wasm32-wasi)", () => {
    it("prove: witnesses, a dev proof, the entrypoint stores it, the report says it all", async () => {
      const args = { block: 123, chain: "ethereum" };
      const report = await host.prove(cProgram, args);
      expect(report.error).to.equal(undefined);
      expect(report.status).to.equal("proved");
      expect(report.program).to.equal(cProgram).and.to.match(/^[0-9a-f]{64}$/);
      expect(report.witnesses).to.have.length(1);
      expect(report.witnessesHash).to.match(/^[0-9a-f]{64}$/);
      const proof = readDevProof(report.proof!);
      expect(E.isRight(proof) && proof.right.program).to.equal(cProgram);
      expect(lines(report)).to.deep.equal([
        "witness guest info: witness.get: 23 bytes of arguments",
        "witness guest info: computing the witnesses",
        "entrypoint guest info: stored the proof",
      ]);
      expect(report.files).to.deep.equal([{ path: "/VAR/SHARE/PROOF.BIN", bytes: report.proof!.length }]);
      expect(await host.readFile(cProgram, "/var/share/proof.bin")).to.deep.equal(report.proof);
      const r = report.resources;
      expect(r.hostCalls).to.equal(4);
      expect(r.bytesStored).to.equal(report.proof!.length);
      expect(r.peakMemoryBytes).to.be.greaterThan(0);
      expect(r.witnessMs).to.be.greaterThan(0);
      expect(r.entrypointMs).to.be.greaterThan(0);
      expect(r.proveMs).to.be.greaterThanOrEqual(0);
      await host.verify(report);
    });

    it("execute: the witness step alone; nothing is proved or stored", async () => {
      const report = await host.execute(cProgram, { block: 5 });
      expect(report.status).to.equal("executed");
      expect(report.proof).to.equal(undefined);
      expect(report.logs.every((l) => l.phase === "witness")).to.equal(true);
      expect(report.resources.entrypointMs).to.equal(0);
    });

    it("is deterministic: same artifact and args, same witnesses hash and same proof", async () => {
      const [a, b] = [await host.prove(cProgram, { n: 1, s: "x" }), await host.prove(cProgram, { s: "x", n: 1 })];
      expect(a.witnessesHash).to.equal(b.witnessesHash);
      expect(a.proof).to.deep.equal(b.proof);
      const c = await host.prove(cProgram, { n: 2, s: "x" });
      expect(c.witnessesHash).to.not.equal(a.witnessesHash);
      expect(c.proof).to.not.deep.equal(a.proof);
    });

    it("an explicit disk image is used instead of the registry's disk, and formatted if missing", async () => {
      const image = path.join(tmp.dir, "other.img");
      const report = await host.prove(cProgram, { image: true }, { image });
      expect(report.status).to.equal("proved");
      expect(await host.readFile(cProgram, "/var/share/proof.bin", { image })).to.deep.equal(report.proof);
      const volume = Volume.open(image, { readOnly: true });
      expect(volume.readFile("/var/share/proof.bin")).to.deep.equal(report.proof);
      volume.close();
    });
  });

  describe("a JS guest (QuickJS, built with the guest SDK)", () => {
    it("prove: the same lifecycle, the proof stored and read back", async () => {
      const report = await host.prove(jsProgram, { numbers: [1, 2, 3] });
      expect(report.error, JSON.stringify(report.logs)).to.equal(undefined);
      expect(report.status).to.equal("proved");
      expect(lines(report)).to.deep.equal(["witness guest info: computing witnesses", "entrypoint guest info: proof stored"]);
      expect(report.logs[0]!.fields).to.deep.equal({ count: 3, sum: 6 });
      expect(new TextDecoder().decode((report.witnesses[0] as { data: Uint8Array }).data)).to.equal('{"numbers":[1,2,3],"sum":6}');
      expect(await host.readFile(jsProgram, "/var/share/proof.bin")).to.deep.equal(report.proof);
    });

    it("is deterministic too, with Math.random and Date inside the guest", async () => {
      const code = await bundleSource(`
        import { defineController, encodeUtf8, serve } from "@zkguest/guest-sdk";
        serve(defineController({
          getWitnesses: (args) => [{ type: "data", data: encodeUtf8(JSON.stringify([args, Math.random(), Date.now()])) }],
          entrypoint() {},
        }));`);
      const program = await host.deploy(jsArtifact("random", code));
      const [a, b] = [await host.prove(program, { x: 1 }), await host.prove(program, { x: 1 })];
      expect(a.status).to.equal("proved");
      expect(a.witnessesHash).to.equal(b.witnessesHash);
      expect(a.proof).to.deep.equal(b.proof);
    });

    it("a guest that throws: guest_error with its message and stack, its logs kept, and the entrypoint told", async () => {
      const code = await bundleSource(`
        import { defineController, log, serve } from "@zkguest/guest-sdk";
        serve(defineController({
          getWitnesses() { log.info("starting"); throw new Error("no witnesses today"); },
          entrypoint(result) { log.warn("entrypoint", { success: result.success, code: result.error?.code ?? "", logs: result.logs.length }); },
        }));`);
      const program = await host.deploy(jsArtifact("thrower", code));
      const report = await host.prove(program, null);
      expect(report.status).to.equal("failed");
      expect(report.error?.code).to.equal("guest_error");
      expect(report.error?.message).to.match(/no witnesses today/);
      expect(report.logs[0]).to.deep.include({ phase: "witness", source: "guest", message: "starting" });
      const entry = report.logs.find((l) => l.phase === "entrypoint" && l.source === "guest");
      expect(entry?.fields).to.deep.include({ success: false, code: "guest_error" });
      expect(entry?.fields?.logs, "the entrypoint got the witness step's logs").to.be.greaterThanOrEqual(2);
      const failureLog = report.logs.find((l) => l.source === "host" && l.level === "error");
      expect(failureLog?.message).to.match(/no witnesses today/);
    });
  });

  describe("failures along the way", () => {
    it("a witness step without witness.ready fails, and the entrypoint is still called", async () => {
      const report = await host.prove(scriptProgram, script([], [request("log", { level: "info", message: "entrypoint ran" })]));
      expect(report.status).to.equal("failed");
      expect(report.error?.code).to.equal("invalid_state");
      expect(lines(report)).to.deep.equal([
        `witness host error: invalid_state: ${report.error!.message}`,
        "entrypoint guest info: entrypoint ran",
      ]);
    });

    it("a prover that fails: the entrypoint is called with success=false and the prover's error", async () => {
      const failing: Prover = {
        name: "failing",
        prove: async () => E.left(failure("internal", "the circuit is out of constraints")),
        verify: async (): Promise<E.Either<Failure, void>> => E.left(failure("internal", "no")),
      };
      const other = await Host.create({ dataDir: path.join(tmp.dir, "failing"), prover: failing, poolSize: 1 });
      try {
        const program = await other.deploy(wasmArtifact("c-example", exampleGuestWasm()));
        const report = await other.prove(program, { x: 1 });
        expect(report.status).to.equal("failed");
        expect(report.error).to.deep.equal({ code: "internal", message: "the circuit is out of constraints" });
        expect(report.proof).to.equal(undefined);
        expect(lines(report).slice(2)).to.deep.equal([
          "entrypoint host error: internal: the circuit is out of constraints",
          "entrypoint guest warn: proving failed: internal: the circuit is out of constraints",
        ]);
      } finally {
        await other.close();
      }
    });

    it("dev proofs are refused by verification unless dev mode is on", async () => {
      const report = await host.prove(cProgram, { v: 1 });
      const strict = new DevProver();
      const program = { id: cProgram, manifest: { name: "c", engine: "wasm" as const, protocol: { min: [1, 0] as const, max: [1, 0] as const }, id: cProgram } };
      const verdict = await strict.verify(report.proof!, program, report.witnesses);
      expect(E.isLeft(verdict) && verdict.left.message).to.match(/development proof/);
      expect(E.isRight(await new DevProver({ devMode: true }).verify(report.proof!, program, report.witnesses))).to.equal(true);
      const tampered = await new DevProver({ devMode: true }).verify(report.proof!, program, []);
      expect(E.isLeft(tampered)).to.equal(true);
    });

    it("unknown programs, bad arguments and bad limits are the caller's errors, thrown", async () => {
      const missing = "0".repeat(64);
      expect(await host.prove(missing, null).catch((e: unknown) => e)).to.have.property("code", "not_found");
      expect(await host.prove("../../etc", null).catch((e: unknown) => e)).to.have.property("code", "not_found");
      expect(await host.prove(cProgram, { f: () => 1 } as unknown as Value).catch((e: unknown) => e)).to.have.property("code", "malformed_frame");
      expect(await host.prove(cProgram, null, { limits: { timeMs: -1 } }).catch((e: unknown) => e)).to.be.instanceOf(RangeError);
      // Limits an engine cannot honour: refused when the host or the run is configured, not at every guest.
      expect(await Host.create({ limits: { memoryBytes: 2 ** 52 } }).catch((e: unknown) => e)).to.be.instanceOf(LimitRangeError).and.include({ limit: "memoryBytes" });
      expect(await host.prove(jsProgram, null, { limits: { memoryBytes: 3 * 2 ** 30 } }).catch((e: unknown) => e)).to.be.instanceOf(LimitRangeError).and.include({ engine: "js" });
      expect(await host.deploy(new Uint8Array([1, 2, 3])).catch((e: unknown) => e)).to.have.property("code", "malformed_frame");
    });
  });

  describe("scheduling", () => {
    it("runs of one program are serialized on its disk; every append lands", async () => {
      const append = request("fs.store", { path: "/count.txt", data: new Uint8Array([1]), mode: "append" });
      const reports = await Promise.all(Array.from({ length: 12 }, () => host.prove(scriptProgram, script([append, READY]))));
      expect(reports.map((r) => r.status)).to.deep.equal(Array(12).fill("proved"));
      expect(await host.readFile(scriptProgram, "/count.txt")).to.have.length(12);
    });

    it("two hosts on one data directory take turns on a program's disk; a run waits for the image's lock", async () => {
      const other = await Host.create({ dataDir: path.join(tmp.dir, "data"), devMode: true, poolSize: 1 });
      try {
        const append = request("fs.store", { path: "/shared.txt", data: new Uint8Array([1]), mode: "append" });
        const runs = Array.from({ length: 12 }, (_, i) => (i % 2 ? other : host).prove(scriptProgram, script([append, READY])));
        expect((await Promise.all(runs)).map((r) => r.status)).to.deep.equal(Array(12).fill("proved"));
        expect(await other.readFile(scriptProgram, "/shared.txt")).to.have.length(12);
        // Held by someone else (a `zkguest fs put`, say): the run starts when it is released.
        const image = path.join(tmp.dir, "data", "disks", `${scriptProgram}.img`);
        const release = await lockImage(image);
        let done = false;
        const waiting = other.prove(scriptProgram, script([append, READY])).then((r) => ((done = true), r));
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(done, "the run waits while the image is locked").to.equal(false);
        release();
        expect((await waiting).status).to.equal("proved");
        expect(await host.readFile(scriptProgram, "/shared.txt")).to.have.length(13);
      } finally {
        await other.close();
      }
    });

    it("different programs run in parallel across the pool", async () => {
      const spin = (ms: number) => host.execute(scriptProgram, script(["spin"]), { limits: { timeMs: ms } });
      const started = performance.now();
      // The stuck guest holds one worker; the other program's runs go on the other one.
      const [stuck, ...others] = await Promise.all([spin(600), ...Array.from({ length: 5 }, () => host.execute(cProgram, { p: 1 }))]);
      expect(stuck.error).to.deep.include({ limit: "time" });
      expect(others.map((r) => r.status)).to.deep.equal(Array(5).fill("executed"));
      expect(performance.now() - started).to.be.below(3_000);
    });

    it("close() removes the temporary data directory of a host that made one", async () => {
      const temporary = await Host.create({ poolSize: 1 });
      const program = await temporary.deploy(wasmArtifact("c-example", exampleGuestWasm()));
      const dir = path.dirname(path.dirname(await (temporary as unknown as { registry: { diskImage(id: string): Promise<string> } }).registry.diskImage(program)));
      expect(existsSync(dir)).to.equal(true);
      await temporary.close();
      expect(existsSync(dir)).to.equal(false);
      expect(await temporary.execute(program, null).catch((e: unknown) => e)).to.have.property("code", "invalid_state");
    });
  });
});
