import { expect } from "chai";
import path from "node:path";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { decode, encode, frame } from "@zkguest/protocol";
import { either as E } from "fp-ts";
import { createArtifact } from "../src/artifact.js";
import { Host } from "../src/host.js";
import type { RunReport } from "../src/report.js";
import { limitRange } from "../src/run-limits.js";
import { exampleGuestWasm, request, requireClang, script, scriptGuestWasm, tempDir, wasmArtifact } from "./host-fixtures.js";
import { bundleSource } from "./quickjs-helpers.js";

// Hostile guests at the host's level: each is contained with a typed error in its report, and
// the host is healthy afterwards (a well-behaved guest is proved after every test).

/** A JS guest whose witness step is `body` (with `args`, `fs`, `log` in scope); it returns its findings as one data witness (JSON). */
async function jsGuest(body: string, entrypoint = ""): Promise<Uint8Array> {
  const code = await bundleSource(`
    import { defineController, encodeUtf8, fs, log, serve } from "@zkguest/guest-sdk";
    const attempt = (f) => { try { return { ok: f() ?? null }; } catch (e) { return { code: e.code ?? e.name, message: e.message }; } };
    serve(defineController({
      getWitnesses(args) { const found = (() => { ${body} })(); return [{ type: "data", data: encodeUtf8(JSON.stringify(found ?? null)) }]; },
      entrypoint(result) { ${entrypoint} },
    }));`);
  return createArtifact({ name: "hostile", engine: "js", code, protocol: { min: [1, 0], max: [1, 0] } }).bytes;
}

/** What the JS guest found, from its witness. */
function findings(report: RunReport): unknown {
  const w = report.witnesses[0];
  if (w?.type !== "data") throw new Error(`no findings: ${report.error?.code}: ${report.error?.message}`);
  return JSON.parse(new TextDecoder().decode(w.data));
}

describe("host: hostile guests are contained", function () {
  this.timeout(20_000);
  let tmp: ReturnType<typeof tempDir>;
  let host: Host;
  let example: string;
  let scriptProgram: string;

  before(async function () {
    this.timeout(120_000);
    requireClang(this);
    tmp = tempDir("zkguest-hostile-");
    host = await Host.create({
      dataDir: path.join(tmp.dir, "data"),
      devMode: true,
      poolSize: 2,
      graceMs: 100,
      workerHeapBytes: 48 * 1024 * 1024,
      diskBytes: 4 * 1024 * 1024,
      limits: { timeMs: 2_000, memoryBytes: 32 * 1024 * 1024 },
    });
    example = await host.deploy(wasmArtifact("c-example", exampleGuestWasm()));
    scriptProgram = await host.deploy(wasmArtifact("script", scriptGuestWasm()));
  });

  afterEach(async function () {
    if (host === undefined) return;
    const report = await host.prove(example, { healthy: true });
    expect(report.status, "the host proves a well-behaved guest afterwards").to.equal("proved");
  });

  after(async () => {
    await host?.close();
    tmp?.remove();
  });

  it("path traversal ('../../') is invalid_path; nothing is written outside the disk", async () => {
    const program = await host.deploy(
      await jsGuest(`return ["/../../escape.txt", "/var/../../../tmp/x.txt", "../relative.txt", "/a/./../../b.txt"].map((p) => attempt(() => fs.store(p, "x")));`),
    );
    const report = await host.prove(program, null);
    expect(report.status).to.equal("proved");
    expect((findings(report) as { code: string }[]).map((f) => f.code)).to.deep.equal(["invalid_path", "invalid_path", "invalid_path", "invalid_path"]);
    expect(report.files).to.deep.equal([]);
    expect(readdirSync(tmp.dir).sort()).to.deep.equal(["data"]);
    expect(report.logs.filter((l) => l.source === "host" && l.level === "warn")).to.have.length(4);
  });

  it("cannot reach another program's disk: its own disk is all it sees", async () => {
    await host.prove(example, { first: true }); // stores /var/share/proof.bin on the example's disk
    const program = await host.deploy(
      await jsGuest(`return [
        attempt(() => fs.read("/var/share/proof.bin")),
        attempt(() => fs.list("/").length),
        attempt(() => fs.read("/../disks/${example}.img")),
        attempt(() => fs.read("/disks/${example.slice(0, 8)}.img")),
        attempt(() => fs.read("/" + "../".repeat(20) + "etc/passwd")),
      ];`),
    );
    const report = await host.prove(program, null);
    expect((findings(report) as { code?: string; ok?: unknown }[]).map((f) => f.code ?? f.ok)).to.deep.equal(["not_found", 0, "invalid_path", "not_found", "invalid_path"]);
  });

  it("filling the disk: quota_exceeded, then no_space, answered to the guest; the next run works", async () => {
    const fill = { frame: request("fs.store", { path: "/fill.bin", data: new Uint8Array(60_000), mode: "append" }), repeat: 100 };
    const lastAnswer = (report: RunReport) => {
      const data = (report.witnesses.at(-1) as { data: Uint8Array } | undefined)?.data;
      const m = data && decode(data);
      return m && E.isRight(m) && m.right.kind === "error" ? m.right.body.code : undefined;
    };
    const quota = await host.prove(scriptProgram, script([fill, "ready"]), { limits: { quotaBytes: 256 * 1024 } });
    expect(lastAnswer(quota)).to.equal("quota_exceeded");
    const full = await host.prove(scriptProgram, script([fill, "ready"]));
    expect(lastAnswer(full)).to.equal("no_space");
    expect(full.status).to.equal("proved");
    const next = await host.prove(scriptProgram, script([request("fs.remove", { path: "/fill.bin" }), request("fs.store", { path: "/after.bin", data: new Uint8Array(100_000), mode: "create" }), "ready"]));
    expect(next.status, JSON.stringify(next.logs)).to.equal("proved");
    expect(next.files, JSON.stringify(next.logs)).to.deep.equal([{ path: "/AFTER.BIN", bytes: 100_000 }]);
  });

  it("a flood of logs ends at max_log_bytes; a flood of host calls at max_host_calls", async () => {
    const logs = await host.deploy(await jsGuest(`for (;;) log.info("spam".repeat(100));`));
    const flooded = await host.prove(logs, null);
    expect(flooded.error, flooded.error?.message).to.deep.include({ code: "limit_exceeded", limit: "log_bytes" });
    expect(flooded.logs.filter((l) => l.source === "guest").length).to.be.within(2_000, 2_621);

    const calls = await host.deploy(await jsGuest(`for (;;) attempt(() => fs.stat("/nothing"));`));
    const storm = await host.prove(calls, null, { limits: { maxHostCalls: 5_000 } });
    expect(storm.error, storm.error?.message).to.deep.include({ code: "limit_exceeded", limit: "host_calls" });
    expect(storm.resources.hostCalls).to.be.at.least(5_000);
  });

  it("a guest stuck in a builtin (new Array(1e9).join()) is stopped by the watchdog: limit_exceeded time", async () => {
    const program = await host.deploy(await jsGuest(`log.info("joining"); return new Array(1e9).join().length;`));
    const started = performance.now();
    const report = await host.execute(program, null, { limits: { timeMs: 100, memoryBytes: limitRange("memoryBytes", "js").max } });
    expect(report.error).to.deep.include({ code: "limit_exceeded", limit: "time" });
    expect(performance.now() - started).to.be.below(2_000);
    expect(report.logs.map((l) => l.message)).to.deep.include("joining");
  });

  it("a WebAssembly infinite loop is stopped by the watchdog: limit_exceeded time, logs kept", async () => {
    const report = await host.execute(scriptProgram, script([request("log", { level: "info", message: "looping" }), "spin"]), { limits: { timeMs: 100 } });
    expect(report.error).to.deep.include({ code: "limit_exceeded", limit: "time" });
    expect(report.logs[0]).to.deep.include({ source: "guest", message: "looping" });
  });

  it("after a trap or exit in the witness step, the entrypoint sees the guest's frames, never the host's", async () => {
    const hostFiles = path.resolve(fileURLToPath(import.meta.url), "../../..");
    for (const [step, first] of [["trap", "RuntimeError: unreachable"], ["exit", "the guest exited with code 3"]] as const) {
      // The entrypoint prints proof.result's body: the witness step's logs as the guest got them.
      const report = await host.prove(scriptProgram, script([step], ["echo"]));
      const hostStack = report.logs.find((l) => l.phase === "witness" && l.source === "host")!.stack!;
      expect(hostStack, "the report keeps the host's frames").to.include(hostFiles).and.to.include("wasm://");
      const received = report.logs.filter((l) => l.phase === "entrypoint" && l.source === "guest").map((l) => l.message).join("\n");
      expect(received, step).to.include(first).and.to.include("wasm://").and.to.include("controller_handle");
      for (const hostDetail of [hostFiles, "file://", "node:", "WasmGuestInstance"]) expect(received, `${step}: ${hostDetail}`).not.to.include(hostDetail);
    }
  });

  it("memory bombs and deep recursion end at their limits", async () => {
    const bomb = await host.deploy(await jsGuest(`const hoard = []; for (;;) hoard.push(new Uint8Array(1 << 20));`));
    expect((await host.execute(bomb, null, { limits: { memoryBytes: 8 * 1024 * 1024, timeMs: 10_000 } })).error).to.deep.include({ code: "limit_exceeded", limit: "memory" });
    const deep = await host.deploy(await jsGuest(`const f = (n) => f(n + 1) + 1; return f(0);`));
    expect((await host.execute(deep, null)).error).to.deep.include({ code: "limit_exceeded", limit: "stack" });
    expect((await host.execute(scriptProgram, script(["oom"]))).error?.code).to.be.oneOf(["limit_exceeded", "guest_error"]);
  });

  it("JS memory bombs of strings and of arrays end at the limit at once; the worker's memory stays bounded and a JS guest runs next", async () => {
    const limits = { memoryBytes: 8 * 1024 * 1024, timeMs: 10_000 };
    for (const bomb of [
      `const a = []; for (let i = 0; ; i++) a.push("x".repeat(65536) + i);`,
      `const a = []; for (;;) a.push(new Array(1 << 16).fill(1));`,
    ]) {
      const program = await host.deploy(await jsGuest(bomb));
      const started = performance.now();
      const report = await host.execute(program, null, { limits });
      expect(report.error, bomb).to.deep.include({ code: "limit_exceeded", limit: "memory" });
      expect(report.error?.message).to.contain("8.0 MiB");
      expect(performance.now() - started).to.be.below(2_000);
      // What the run took of the worker's memory: its limit, and the QuickJS module's free first 8 MiB, at most.
      expect(report.resources.peakMemoryBytes).to.be.within(1024 * 1024, 16 * 1024 * 1024);
    }
    const calm = await host.deploy(await jsGuest(`return "calm";`));
    expect(findings(await host.execute(calm, null))).to.equal("calm");
  });

  it("a worker that dies under a guest (its heap filled through a lax log limit) fails the run; the pool replaces it", async () => {
    const big = request("log", { level: "info", message: "z".repeat(8000), fields: { pad: "p".repeat(8000) } });
    const lax = { maxLogBytes: 2 ** 40, maxHostCalls: 10_000_000, timeMs: 15_000 };
    const report = await host.execute(scriptProgram, script([{ frame: big, repeat: 1_000_000 }]), { limits: lax });
    expect(report.error).to.deep.include({ code: "limit_exceeded", limit: "memory" });
    expect(report.error?.message).to.match(/sandbox/);
    expect(report.logs.length).to.be.greaterThan(10);
  });

  it("a guest speaking only another major version gets unsupported_version; the entrypoint is not called", async () => {
    // A raw guest (no SDK) that answers every request as a 2.x-only guest answers hello.
    const answer = encode(frame("error", 1, { code: "unsupported_version", message: "peer offers 1.0; this side speaks 2.0: no common major version" }, [2, 0]));
    const code = await bundleSource(`const answer = new Uint8Array([${answer.join(",")}]); globalThis.__zkguest_handle = () => answer.slice().buffer;`);
    const program = await host.deploy(createArtifact({ name: "v2-only", engine: "js", code, protocol: { min: [2, 0], max: [2, 0] } }).bytes);
    const report = await host.prove(program, null);
    expect(report.status).to.equal("failed");
    expect(report.error?.code).to.equal("unsupported_version");
    expect(report.error?.message).to.match(/2\.0/);
    expect(report.logs.map((l) => l.phase)).to.deep.equal(["witness"]);
  });
});
