import { expect } from "chai";
import type { QuickJSWASMModule } from "quickjs-emscripten-core";
import type { EngineLimits, GuestFailure, HostCallHandler } from "../src/engine/engine.js";
import { QuickJsEngine } from "../src/engine/quickjs.js";
import { isDiscarded } from "../src/engine/quickjs-module.js";
import { bundleController, LIMITS, rawGuest, start, failureOf } from "./quickjs-helpers.js";

// The memory limit of JS guests, which the engine enforces on the QuickJS module's memory
// itself: QuickJS's own limit counts allocations, not bytes, in this build, so each of these
// bombs used to fill the module's whole 2 GiB whatever its limit.

const MiB = 1024 * 1024;
/**
 * The engine's cap here: small, so that a run that escaped its limit would show, and not a
 * whole number of 64 KiB pages, as memoryCapFor gives for such a limit.
 */
const CAP = 64 * MiB + 1000;
const LIMIT = 8 * MiB;
/** Emscripten's first heap (a fresh module has about 8 MiB free) and one step of its growth: what a run may hold beyond its limit. */
const SLACK = 12 * MiB;

const BOMBS = {
  "arrays of arrays": "const a = []; for (;;) a.push(new Array(1 << 16).fill(1));",
  strings: "const a = []; for (let i = 0; ; i++) a.push('x'.repeat(65536) + i);",
  "typed arrays": "const a = []; for (;;) a.push(new Uint8Array(65536));",
};

/** A guest whose __zkguest_handle runs `body`. */
function guestRunning(body: string): Uint8Array {
  return rawGuest(`globalThis.__zkguest_handle = () => { ${body} };`);
}

for (const snapshots of [false, true]) {
  describe(`QuickJS engine: the memory limit counts bytes (${snapshots ? "instances restored from a snapshot" : "instances evaluated on the shared module"})`, function () {
    let engine: QuickJsEngine;
    let example: Uint8Array;

    before(async () => {
      engine = await QuickJsEngine.create({ memoryCapBytes: CAP, snapshots });
      example = await bundleController("examples/hello-js/controller.ts");
    });

    /** Runs `body` once under `limits` (on a restored instance if snapshots are on); gives its failure, the module's memory, and how long it took. */
    function bomb(body: string, limits: Partial<EngineLimits> = {}, host: HostCallHandler = () => new Uint8Array(0)) {
      const guest = engine.load(guestRunning(body));
      const runLimits = { ...LIMITS, memoryBytes: LIMIT, timeMs: 10_000, ...limits };
      if (snapshots) guest.instantiate(host, runLimits).dispose();
      const instance = guest.instantiate(host, runLimits);
      const module: QuickJSWASMModule = instance.module;
      const memory = module.getWasmMemory();
      const before = memory.buffer.byteLength;
      const started = performance.now();
      const failure = failureOf(() => instance.handle(new Uint8Array(1)));
      const ms = performance.now() - started;
      const used = instance.memoryUsed();
      instance.dispose();
      return { failure, ms, before, after: memory.buffer.byteLength, used, module, guest };
    }

    /** The engine serves a well-behaved guest afterwards. */
    afterEach(async () => {
      await engine.ready();
      const { host, conversation } = start(engine.load(example));
      expect(conversation.hello().kind).to.equal("ok");
      expect(conversation.witnessGet({ numbers: [1, 2] }).kind).to.equal("ok");
      expect(host.requests.map((m) => m.kind)).to.deep.equal(["log", "witness.ready"]);
      conversation.instance.dispose();
    });

    for (const [name, body] of Object.entries(BOMBS)) {
      it(`stops a bomb of ${name} at its limit at once, the module's memory bounded, and retires the module`, async () => {
        const run = bomb(body);
        expect(run.failure, run.failure.message).to.include({ code: "limit_exceeded", limit: "memory" });
        expect(run.failure.message).to.contain("memory limit of 8.0 MiB");
        expect(run.ms).to.be.below(1_500);
        expect(run.after - run.before, "the run's growth").to.be.at.most(LIMIT);
        expect(run.after).to.be.below(CAP);
        // What the run reports is what it held (for strings QuickJS's own estimate reads ~0).
        expect(run.used).to.be.within(4 * MiB, LIMIT + SLACK);
        expect(isDiscarded(run.module), "a module left full is not reused").to.equal(true);
        await engine.ready();
        const again = run.guest.instantiate(() => new Uint8Array(0), LIMITS);
        expect(again.module, "the guest runs on another module").to.not.equal(run.module);
        again.dispose();
        if (!snapshots) {
          expect(engine.healthy).to.equal(true);
          expect(engine.module().getWasmMemory().buffer.byteLength, "a fresh module").to.equal(16 * MiB);
        }
      });
    }

    it("ends the run even when the guest catches the out-of-memory error and goes on", async () => {
      const catching = `const a = []; try { for (;;) a.push(new Uint8Array(65536)); } catch (e) { a.length = 0; }`;
      const returning = bomb(`${catching} return new ArrayBuffer(1);`);
      expect(returning.failure).to.include({ code: "limit_exceeded", limit: "memory" });
      await engine.ready();
      let calls = 0;
      const calling = bomb(`${catching} for (;;) __zkguest_call(new ArrayBuffer(1));`, {}, () => {
        calls++;
        return new Uint8Array(1);
      });
      expect(calling.failure).to.include({ code: "limit_exceeded", limit: "memory" });
      expect(calls, "the host is not called once the heap is full").to.equal(0);
    });

    it("stops a guest whose limit is above the cap at the cap, naming it", () => {
      const run = bomb(BOMBS.strings, { memoryBytes: 1024 * MiB });
      expect(run.failure).to.include({ code: "limit_exceeded", limit: "memory" });
      expect(run.failure.message).to.contain("cap of 64.0 MiB");
      expect(run.after).to.be.at.most(CAP);
    });

    it("ends the run on the memory limit when a host response does not fit in the guest's memory", () => {
      let called = false;
      const run = bomb(`__zkguest_call(new ArrayBuffer(1)); return new ArrayBuffer(1);`, {}, () => {
        called = true;
        return new Uint8Array(3 * LIMIT);
      });
      expect(called).to.equal(true);
      expect(run.failure).to.include({ code: "limit_exceeded", limit: "memory" });
    });

    it("copies nothing into a heap that cannot hold it: the module's malloc throws instead of giving NULL", async () => {
      // quickjs-emscripten copies strings and buffers into the module without checking malloc's
      // result: unguarded, this one would be written at address 0, over the module's own data.
      // A cap of 16 MiB (the module's first memory) lets the memory grow not at all.
      const module = (await QuickJsEngine.create({ memoryCapBytes: 16 * MiB })).module();
      const context = module.newContext();
      expect(() => context.newArrayBuffer(new ArrayBuffer(12 * MiB))).to.throw(RangeError, /out of memory/);
      context.dispose();
    });

    it("gives the same verdict whoever ran before: memory an earlier run grew and then freed is no free room for the next", async () => {
      // One guest, two behaviours by the request's size: 1 byte holds 24 MiB (over an 8 MiB
      // limit, and over what a fresh module has free), 2 bytes churns 40 MiB and frees it all
      // (under a 48 MiB limit).
      const guest = engine.load(
        rawGuest(`globalThis.__zkguest_handle = (frame) => {
          const chunks = frame.byteLength === 1 ? 384 : 640;
          let keep = [];
          for (let i = 0; i < chunks; i++) keep.push(new Uint8Array(65536));
          globalThis.held = frame.byteLength === 1 ? keep : null;
          return new ArrayBuffer(1);
        };`),
      );
      const run = (bytes: number, memoryBytes: number) => {
        const instance = guest.instantiate(() => new Uint8Array(0), { ...LIMITS, memoryBytes, timeMs: 10_000 });
        try {
          instance.handle(new Uint8Array(bytes));
          return undefined;
        } catch (e) {
          return e as GuestFailure;
        } finally {
          instance.dispose();
        }
      };
      if (snapshots) run(2, 48 * MiB); // the snapshot is taken by a first run
      await engine.ready();
      expect(run(1, LIMIT), "holding 24 MiB under 8 MiB, first").to.include({ code: "limit_exceeded", limit: "memory" });
      await engine.ready();
      expect(run(2, 48 * MiB), "40 MiB churned under 48 MiB").to.equal(undefined);
      await engine.ready();
      const after = run(1, LIMIT);
      expect(after, "holding 24 MiB under 8 MiB, after the module was grown and freed by another run").to.include({ code: "limit_exceeded", limit: "memory" });
    });

    it("reports the memory a run grew the module by, and QuickJS's estimate when the run grew nothing", async () => {
      const grow = (code: string) => engine.load(rawGuest(`${code}; globalThis.__zkguest_handle = () => new ArrayBuffer(1);`)).instantiate(() => new Uint8Array(0), LIMITS);
      // 24 MiB of strings: the module grows (its first 8 MiB are free), QuickJS's estimate does not see them.
      const strings = grow("globalThis.keep = []; for (let i = 0; i < 384; i++) keep.push('s'.repeat(65536) + i)");
      expect(strings.memoryUsed()).to.be.within(14 * MiB, 24 * MiB + SLACK);
      strings.dispose();
      // The module that run grew is retired (see the history test below): the next run is on a fresh one.
      await engine.ready();
      // 4 MiB in the fresh module's free first pages: no growth, QuickJS's estimate sees it.
      const typed = grow("globalThis.keep = new Uint8Array(4 << 20)");
      expect(typed.memoryUsed()).to.be.within(4 * MiB, 8 * MiB);
      typed.dispose();
    });
  });
}
