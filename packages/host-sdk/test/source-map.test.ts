import { GUEST_BUNDLE_OPTIONS } from "@zkguest/guest-sdk/bundle";
import { PROTOCOL_VERSION } from "@zkguest/protocol";
import { expect } from "chai";
import * as esbuild from "esbuild";
import fc from "fast-check";
import path from "node:path";
import { createArtifact } from "../src/artifact.js";
import { MAX_GUEST_TEXT_BYTES } from "../src/guest-text.js";
import { Host } from "../src/host.js";
import type { RunReport } from "../src/report.js";
import { GuestSourceMap, MAX_SOURCE_MAP_SEGMENTS, sourceMapProblem } from "../src/source-map/map.js";
import { SourceMapper } from "../src/source-map/mapper.js";
import { tempDir } from "./host-fixtures.js";
import { repoRoot } from "./quickjs-helpers.js";

/** A guest that throws from a function of its own (line 4) called by getWitnesses (line 10), and whose entrypoint logs the stack it was told. */
const CONTROLLER = `import { defineController, log, serve } from "@zkguest/guest-sdk";

function check(n: number): number {
  if (n > 2) throw new RangeError("too big: " + n);
  return n;
}

serve(defineController<{ n: number }>({
  getWitnesses(args) {
    return [{ type: "data", data: new Uint8Array([check(args.n)]) }];
  },
  entrypoint(result) {
    const told = result.logs.find((l) => l.fields?.["stack"] !== undefined);
    log.info("told", { stack: String(told?.fields?.["stack"]) });
  },
}));
`;

/** The guest bundled as `zkguest build` does, with its source map (its one source named controller.ts). */
async function bundleWithMap(source: string): Promise<{ code: Uint8Array; map: Uint8Array }> {
  const out = await esbuild.build({
    ...GUEST_BUNDLE_OPTIONS,
    mainFields: [...GUEST_BUNDLE_OPTIONS.mainFields],
    stdin: { contents: source, resolveDir: repoRoot, loader: "ts", sourcefile: "controller.ts" },
    absWorkingDir: repoRoot,
    outfile: path.join(repoRoot, "guest.js"),
    sourcemap: "external",
    sourcesContent: false,
    write: false,
    logLevel: "silent",
  });
  const file = (ext: string) => out.outputFiles.find((f) => f.path.endsWith(ext))!.contents;
  return { code: file(".js"), map: file(".map") };
}

const utf8 = (text: string) => new TextEncoder().encode(text);
const mapOf = (fields: Record<string, unknown>) => utf8(JSON.stringify({ version: 3, sources: ["controller.ts"], names: [], mappings: "AAAA", ...fields }));

/** A stack as QuickJS writes it, frames in the guest's script. */
const STACK = "RangeError: too big\n    at f (guest.js:1:1)\n    at <anonymous> (guest.js:2:3)\n    at native";

describe("source maps: a JS guest's stacks in the controller's files", function () {
  this.timeout(30_000);
  let tmp: ReturnType<typeof tempDir>;
  let host: Host;
  let bundle: { code: Uint8Array; map: Uint8Array };
  let unmapped: RunReport;

  const deploy = (sourceMap?: Uint8Array) =>
    host.deploy(createArtifact({ name: "thrower", engine: "js", code: bundle.code, protocol: { min: PROTOCOL_VERSION, max: PROTOCOL_VERSION }, ...(sourceMap === undefined ? {} : { sourceMap }) }).bytes);

  before(async () => {
    tmp = tempDir("zkguest-source-map-");
    host = await Host.create({ dataDir: path.join(tmp.dir, "data"), poolSize: 1 });
    bundle = await bundleWithMap(CONTROLLER);
    unmapped = await host.prove(await deploy(), { n: 5 });
  });

  after(async () => {
    await host?.close();
    tmp?.remove();
  });

  it("the report names the controller's lines; the guest's entrypoint is told its own frames, as they were", async () => {
    expect(unmapped.error?.stack).to.match(/^ +at \S+ \(guest\.js:1:\d+\)\n +at getWitnesses \(guest\.js:1:\d+\)\n/);
    const report = await host.prove(await deploy(bundle.map), { n: 5 });
    expect(report.status).to.equal("failed");
    expect(report.error?.code).to.equal("guest_error");
    const stack = report.error!.stack!;
    expect(stack).to.match(/^ +at \S+ \(controller\.ts:4:\d+\)\n +at getWitnesses \(controller\.ts:10:\d+\)\n/);
    // The SDK's frames name its sources too, relative to the repository (the project here).
    expect(stack).to.match(/\(packages\/guest-sdk\/src\/session\.ts:\d+:\d+\)/);
    expect(stack).not.to.include("guest.js");
    // The host's record of the failure in the logs is mapped the same way.
    expect(report.logs.find((l) => l.source === "host" && l.phase === "witness")?.stack).to.equal(stack);
    // What the entrypoint was told is what the guest's own code saw.
    const told = report.logs.find((l) => l.message === "told")?.fields?.["stack"];
    expect(told).to.equal(unmapped.logs.find((l) => l.message === "told")?.fields?.["stack"]);
    expect(told).to.match(/\(guest\.js:1:\d+\)/).and.not.to.include("controller.ts");
  });

  it("a run that does not fail is the same with a map", async () => {
    const report = await host.execute(await deploy(bundle.map), { n: 1 });
    expect(report.status).to.equal("executed");
    expect(report.witnesses).to.deep.equal([{ type: "data", data: new Uint8Array([1]) }]);
  });

  it("a map the host does not use, or that points nowhere, leaves the stack as it was and the run as it went", async () => {
    const nested = 100_000;
    const bad: [string, Uint8Array][] = [
      ["not UTF-8", Uint8Array.of(0xff, 0xfe, 0x7b)],
      ["not JSON", utf8("{ version: 3 ")],
      ["another version", mapOf({ version: 2 })],
      ["an index map", utf8(JSON.stringify({ version: 3, sections: [{ offset: { line: 0, column: 0 }, map: JSON.parse(new TextDecoder().decode(bundle.map)) }] }))],
      ["nested a hundred thousand deep", utf8(`{"version":3,"x":${"[".repeat(nested)}${"]".repeat(nested)}}`)],
      ["garbage mappings", mapOf({ mappings: "!!!!;@@@@,####" })],
      ["mappings into a source it does not have", mapOf({ mappings: "AKAA" })],
      ["a source name with a line break", mapOf({ sources: ["x.ts\n    at forged (elsewhere.ts:1:1)"] })],
      ["a source name of a megabyte", mapOf({ sources: ["x".repeat(1 << 20)] })],
      ["more segments than the host decodes", mapOf({ mappings: "AAAA,".repeat(MAX_SOURCE_MAP_SEGMENTS) })],
    ];
    for (const [what, map] of bad) {
      const report = await host.prove(await deploy(map), { n: 5 });
      expect(report.error, what).to.deep.equal(unmapped.error);
      expect(report.logs, what).to.deep.equal(unmapped.logs);
    }
  });
});

describe("GuestSourceMap", () => {
  it("maps the frames in the guest's script, and nothing else", () => {
    const map = GuestSourceMap.read(mapOf({ sources: ["src/a.ts", "%3Centry%3E"], mappings: "AAAA;ECCA" }))!;
    const stack = `${STACK}\n    at host (/srv/host/dist/guest.js:1:1)\n    at other.js:1:1`;
    expect(map.mapStack(stack)).to.equal(
      "RangeError: too big\n    at f (src/a.ts:1:1)\n    at <anonymous> (<entry>:2:1)\n    at native\n    at host (/srv/host/dist/guest.js:1:1)\n    at other.js:1:1",
    );
  });

  it("maps a huge stack in bounded time: the first frames, then cut to the guest text bound", () => {
    const map = GuestSourceMap.read(mapOf({ mappings: "AAAA" }))!;
    const stack = "Error: deep\n" + "    at f (guest.js:1:1)\n".repeat(200_000);
    const mapped = map.mapStack(stack);
    expect(Buffer.byteLength(mapped, "utf8")).to.be.at.most(MAX_GUEST_TEXT_BYTES);
    expect(mapped).to.match(/^Error: deep\n {4}at f \(controller\.ts:1:1\)\n/).and.to.match(/ … \[cut: \d+ more characters\]$/);
  });

  it("never throws on garbage: bytes, or mappings of any VLQ characters", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        GuestSourceMap.read(bytes)?.mapStack(STACK);
      }),
    );
    const vlq = fc.string({ unit: fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/,;"), maxLength: 200 });
    fc.assert(
      fc.property(vlq, fc.array(fc.string(), { maxLength: 3 }), (mappings, sources) => {
        const mapped = GuestSourceMap.read(mapOf({ mappings, sources }))?.mapStack(STACK);
        if (mapped !== undefined) expect(mapped.split("\n")).to.have.length(STACK.split("\n").length);
      }),
    );
  });

  it("says why a builder's map would not be used", () => {
    expect(sourceMapProblem(mapOf({}))).to.equal(undefined);
    expect(sourceMapProblem(new Uint8Array(4 * 1024 * 1024 + 1))).to.equal(`the source map is ${4 * 1024 * 1024 + 1} bytes, the limit is ${4 * 1024 * 1024}`);
    expect(sourceMapProblem(mapOf({ mappings: ";".repeat(MAX_SOURCE_MAP_SEGMENTS) }))).to.equal(`the source map has ${MAX_SOURCE_MAP_SEGMENTS + 1} segments, the host decodes at most ${MAX_SOURCE_MAP_SEGMENTS}`);
    expect(sourceMapProblem(utf8("[[[1]]]"))).to.match(/nests deeper than 2 levels/);
    expect(sourceMapProblem(mapOf({ version: 2 }))).to.match(/not a source map of version 3/);
    expect(sourceMapProblem(mapOf({ mappings: "AAAA;!" }))).to.equal("the source map's mappings are not Base64 VLQ");
  });
});

describe("SourceMapper: maps are decoded off the host's event loop", function () {
  this.timeout(30_000);
  /** The largest map the host decodes: as many segments as it takes, all in one line, as a minifier writes them. */
  const largest = mapOf({ mappings: `${"AAAA,".repeat(MAX_SOURCE_MAP_SEGMENTS - 1)}AAAA` });
  const report = (program: string): RunReport =>
    ({ program, status: "failed", error: { code: "guest_error", message: "too big", stack: STACK }, logs: [{ phase: "witness", source: "host", level: "error", message: "x", stack: STACK }] }) as unknown as RunReport;

  /** The longest the event loop went without turning while `work` ran. */
  async function longestStall(work: () => Promise<unknown> | unknown): Promise<number> {
    let last = performance.now();
    let longest = 0;
    const tick = setInterval(() => {
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
    }, 1);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await work();
    const at = performance.now();
    longest = Math.max(longest, at - last);
    clearInterval(tick);
    return longest;
  }

  it("maps a report's error and logs as GuestSourceMap does, and the event loop turns while the largest map is decoded", async () => {
    const mapper = new SourceMapper();
    try {
      const small = mapOf({ sources: ["src/a.ts"], mappings: "AAAA;ECCA" });
      const mapped = await mapper.mapReport(report("small"), small);
      const expected = GuestSourceMap.read(small)!.mapStack(STACK);
      expect(mapped.error?.stack).to.equal(expected);
      expect(mapped.logs[0]?.stack).to.equal(expected);

      // On the event loop, decoding the largest map is one long stall; through the mapper, none as long.
      const onLoop = await longestStall(() => GuestSourceMap.read(largest)!.mapStack(STACK));
      const offLoop = await longestStall(() => mapper.mapReport(report("largest"), largest));
      expect(onLoop, "decoding the largest map on the loop stalls it").to.be.above(50);
      expect(offLoop, `through the mapper (on the loop: ${onLoop.toFixed(0)} ms)`).to.be.below(onLoop / 2);
    } finally {
      await mapper.close();
    }
  });

  it("a worker that runs out of heap leaves the stacks as they were, and the next report gets a new worker", async () => {
    const small = mapOf({ sources: ["src/a.ts"], mappings: "AAAA;ECCA" });
    const mapper = new SourceMapper({ heapMb: 16 });
    try {
      const unmapped = report("largest");
      expect(await mapper.mapReport(unmapped, largest)).to.deep.equal(unmapped);
      expect((await mapper.mapReport(report("small"), small)).error?.stack).to.equal(GuestSourceMap.read(small)!.mapStack(STACK));
    } finally {
      await mapper.close();
    }
  });

  it("a map that takes longer than the mapper's deadline leaves the stacks as they were", async () => {
    const mapper = new SourceMapper({ timeoutMs: 20 });
    try {
      const unmapped = report("largest");
      const started = performance.now();
      expect(await mapper.mapReport(unmapped, largest)).to.deep.equal(unmapped);
      expect(performance.now() - started).to.be.below(1000);
    } finally {
      await mapper.close();
    }
  });
});
