import { once } from "node:events";
import { Worker } from "node:worker_threads";
import { expect } from "chai";
import { encode, frame } from "@zkguest/protocol";
import { GuestFailure } from "../src/engine/engine.js";
import { MAX_PENDING_OUTPUT_BYTES } from "../src/engine/wasi-output.js";
import { WasmEngine } from "../src/engine/wasm.js";
import { PAGE_BYTES } from "../src/engine/wasm-module.js";
import { guest, I32, op, replyWithStatus, SCRATCH, statusOf } from "./wasm-assembler.js";
import { ANY_REQUEST, expectFailure, okHost, TEST_LIMITS } from "./wasm-helpers.js";

const engine = new WasmEngine();
const LIMIT_PAGES = TEST_LIMITS.memoryBytes / PAGE_BYTES;

/** Loops forever: `loop <body> br 0 end`. */
const forever = (body: number[]) => [...op.loop, ...body, ...op.br(0), ...op.end, ...op.unreachable];

/** Grows the memory one page at a time until memory.grow fails; leaves the page count in local 2. */
const growUntilRefused = [
  ...op.block, ...op.loop,
  ...op.i32Const(1), ...op.memoryGrow, ...op.i32Const(-1), ...op.i32Eq, ...op.brIf(1),
  ...op.br(0),
  ...op.end, ...op.end,
  ...op.i32Const(0), ...op.memoryGrow, // memory.grow(0) gives the current size in pages
];

describe("wasm engine: limits (SPEC.md §10.4)", () => {
  describe("time", () => {
    it("stops a guest looping over host calls at its first call past the deadline", () => {
      const host = okHost();
      const instance = engine.load(guest((f) => forever([...op.i32Const(0), ...op.i32Const(8), ...op.call(f.call), ...op.drop])).build()).instantiate(host.handler, { ...TEST_LIMITS, timeMs: 50 });
      const started = performance.now();
      const failure = expectFailure(() => instance.handle(ANY_REQUEST), "limit_exceeded", "time");
      expect(failure.message).to.equal("the guest ran for more than 50 ms");
      expect(performance.now() - started).to.be.within(50, 1000);
      expect(host.calls).to.be.greaterThan(10);
    });

    it("reports a call that returns after its deadline", () => {
      // Counts down from 2^31-1 with no host call: far longer than 1 ms, short enough to end.
      const countdown = [
        ...op.i32Const(0x7fffffff >> 5), ...op.localSet(2),
        ...op.loop, ...op.localGet(2), ...op.i32Const(1), ...op.i32Sub, ...op.localTee(2), ...op.brIf(0), ...op.end,
      ];
      const m = guest((f) => [...countdown, ...op.i32Const(0), ...op.i32Const(4), ...op.call(f.reply), ...op.drop, ...op.i32Const(0)]);
      expectFailure(() => engine.load(m.build()).instantiate(okHost().handler, { ...TEST_LIMITS, timeMs: 1 }).handle(ANY_REQUEST), "limit_exceeded", "time");
    });

    it("a loop without host calls needs the worker's hard stop: terminating the thread ends it", async function () {
      this.timeout(10_000);
      const bytes = guest(() => forever([])).build();
      const worker = new Worker(
        `const { parentPort, workerData } = require("node:worker_threads");
         import(workerData.engine).then(({ WasmEngine }) => {
           const instance = new WasmEngine().load(workerData.bytes).instantiate(() => new Uint8Array(0), workerData.limits);
           parentPort.postMessage("running");
           instance.handle(workerData.request);
           parentPort.postMessage("returned");
         });`,
        { eval: true, workerData: { engine: new URL("../src/engine/wasm.js", import.meta.url).href, bytes, limits: TEST_LIMITS, request: ANY_REQUEST } },
      );
      const messages: unknown[] = [];
      worker.on("message", (m) => messages.push(m));
      await once(worker, "message");
      await new Promise((resolve) => setTimeout(resolve, 100)); // this thread stays responsive
      const [exitCode] = await Promise.all([once(worker, "exit"), worker.terminate()]);
      expect(exitCode).to.deep.equal([1]);
      expect(messages).to.deep.equal(["running"]);
    });
  });

  describe("memory", () => {
    it("caps the memory at the limit: memory.grow fails there", () => {
      const m = guest((f) => [...growUntilRefused, ...replyWithStatus(f.reply)], { maxPages: 1000 });
      const instance = engine.load(m.build()).instantiate(okHost().handler, TEST_LIMITS);
      expect(statusOf(instance.handle(ANY_REQUEST))).to.equal(LIMIT_PAGES);
      expect(instance.memoryUsed()).to.equal(TEST_LIMITS.memoryBytes);
    });

    it("keeps the module's own smaller maximum", () => {
      const m = guest((f) => [...growUntilRefused, ...replyWithStatus(f.reply)], { maxPages: 2 });
      expect(statusOf(engine.load(m.build()).instantiate(okHost().handler, TEST_LIMITS).handle(ANY_REQUEST))).to.equal(2);
    });

    it("compiles one module per memory limit", () => {
      const loaded = engine.load(guest((f) => [...growUntilRefused, ...replyWithStatus(f.reply)]).build());
      for (const pages of [2, 3, 2]) {
        expect(statusOf(loaded.instantiate(okHost().handler, { ...TEST_LIMITS, memoryBytes: pages * PAGE_BYTES }).handle(ANY_REQUEST))).to.equal(pages);
      }
    });

    it("reports a guest that traps when its memory is full as the memory limit", () => {
      const m = guest(() => [...growUntilRefused, ...op.unreachable]);
      const failure = expectFailure(() => engine.load(m.build()).instantiate(okHost().handler, TEST_LIMITS).handle(ANY_REQUEST), "limit_exceeded", "memory");
      expect(failure.message).to.equal(`the guest trapped: unreachable (its memory is full at the limit of ${TEST_LIMITS.memoryBytes} bytes)`);
    });

    it("refuses to start a guest whose initial memory exceeds the limit", () => {
      const loaded = engine.load(guest(() => op.i32Const(0), { pages: LIMIT_PAGES + 1 }).build());
      const failure = expectFailure(() => loaded.instantiate(okHost().handler, TEST_LIMITS), "limit_exceeded", "memory");
      expect(failure.message).to.equal(`the guest's initial memory is ${(LIMIT_PAGES + 1) * PAGE_BYTES} bytes, the limit is ${TEST_LIMITS.memoryBytes}`);
    });
  });

  describe("stack", () => {
    it("reports unbounded recursion as the stack limit", () => {
      // Functions: 0-2 imports, 3 zkguest_alloc, 4 zkguest_handle, 5 the recursion.
      const m = guest((f) => [...op.call(5), ...op.drop, ...op.i32Const(0), ...op.i32Const(4), ...op.call(f.reply), ...op.drop, ...op.i32Const(0)]);
      m.func([], [I32], [...op.call(5), ...op.i32Const(1), ...op.i32Add]);
      const failure = expectFailure(() => engine.load(m.build()).instantiate(okHost().handler, TEST_LIMITS).handle(ANY_REQUEST), "limit_exceeded", "stack");
      expect(failure.message).to.match(/^stack exhausted: Maximum call stack size exceeded/);
      expect(failure.guestStack).to.match(/wasm-function\[5\]/);
    });

    it("also when the stack runs out inside a host call", () => {
      // Each level calls take (a host function) before recursing: the overflow may hit either side.
      const m = guest(() => [...op.call(5), ...op.drop, ...op.i32Const(0)]);
      m.func([], [I32], [...op.i32Const(0), ...op.i32Const(0), ...op.call(1), ...op.drop, ...op.call(5), ...op.i32Const(1), ...op.i32Add]);
      expectFailure(() => engine.load(m.build()).instantiate(okHost().handler, TEST_LIMITS).handle(ANY_REQUEST), "limit_exceeded", "stack");
    });
  });

  it("frame size: a reply larger than max_frame_bytes ends the run", () => {
    const m = guest((f) => [...op.i32Const(0), ...op.i32Const(TEST_LIMITS.maxFrameBytes + 1), ...op.call(f.reply), ...op.drop, ...op.i32Const(0)], { pages: 2 });
    const failure = expectFailure(() => engine.load(m.build()).instantiate(okHost().handler, TEST_LIMITS).handle(ANY_REQUEST), "limit_exceeded", "frame_size");
    expect(failure.message).to.equal(`the guest's response frame is ${TEST_LIMITS.maxFrameBytes + 1} bytes, max_frame_bytes is ${TEST_LIMITS.maxFrameBytes}`);
  });

  it("output: a flood on stdout ends the run once the engine's buffer is full", () => {
    const m = guest(() => forever([...op.i32Const(1), ...op.i32Const(SCRATCH), ...op.i32Const(1), ...op.i32Const(SCRATCH + 8), ...op.call(3), ...op.drop]), {
      setup: (b) => b.importFunc("wasi_snapshot_preview1", "fd_write", [I32, I32, I32, I32]),
    });
    // One iovec at SCRATCH: 32 KiB from address 4096.
    m.data(SCRATCH, [0x00, 0x10, 0, 0, 0x00, 0x80, 0, 0]);
    const failure = expectFailure(() => engine.load(m.build()).instantiate(okHost().handler, TEST_LIMITS).handle(ANY_REQUEST), "limit_exceeded", "log_bytes");
    expect(failure.message).to.equal(`the guest wrote more than ${MAX_PENDING_OUTPUT_BYTES} bytes to stdout and stderr in one call`);
  });

  describe("a guest cannot swallow a failure with catch_all", () => {
    const tryCatchAll = (body: number[]) => [...op.try, ...body, ...op.catchAll, ...op.end];
    const replyAndSucceed = (reply: number) => [...op.i32Const(0), ...op.i32Const(4), ...op.call(reply), ...op.drop, ...op.i32Const(0)];

    it("a limit the host handler throws is still reported when the guest returns", () => {
      const m = guest((f) => [...tryCatchAll([...op.i32Const(0), ...op.i32Const(8), ...op.call(f.call), ...op.drop]), ...replyAndSucceed(f.reply)]);
      const limit = GuestFailure.limitExceeded("host_calls", "the guest made more than 0 host calls");
      const instance = engine.load(m.build()).instantiate(() => {
        throw limit;
      }, TEST_LIMITS);
      const failure = expectFailure(() => instance.handle(ANY_REQUEST), "limit_exceeded", "host_calls");
      expect(failure.message).to.equal(limit.message);
    });

    it("a call after the guest replied returns -4 and never reaches the host (SPEC.md §2, §10.1)", () => {
      // The handler returns call's status + 4: 0 (success) only when the status was -4.
      const m = guest((f) => [...op.i32Const(0), ...op.i32Const(4), ...op.call(f.reply), ...op.drop, ...op.i32Const(0), ...op.i32Const(8), ...op.call(f.call), ...op.i32Const(4), ...op.i32Add]);
      let reached = 0;
      const instance = engine.load(m.build()).instantiate(() => {
        reached++;
        throw GuestFailure.limitExceeded("host_calls", "the guest made too many host calls");
      }, TEST_LIMITS);
      expect(() => instance.handle(ANY_REQUEST)).to.not.throw();
      expect(reached).to.equal(0);
    });

    it("a trap on a bad pointer is still reported, and every later host call fails again", () => {
      const callAt = (call: number, ptr: number) => [...op.i32Const(ptr), ...op.i32Const(8), ...op.call(call), ...op.drop];
      const m = guest((f) => [...tryCatchAll(callAt(f.call, -1)), ...tryCatchAll(callAt(f.call, 0)), ...replyAndSucceed(f.reply)]);
      const host = okHost();
      const failure = expectFailure(() => engine.load(m.build()).instantiate(host.handler, TEST_LIMITS).handle(ANY_REQUEST), "guest_error");
      expect(failure.message).to.match(/^zkguest\.call: bytes \[4294967295, /);
      expect(host.calls, "the valid call after the trap").to.equal(0);
    });
  });

  it("after any of this the same loaded guest still serves new instances", () => {
    const loaded = engine.load(guest((f) => [...op.i32Const(0), ...op.i32Const(8), ...op.call(f.call), ...replyWithStatus(f.reply)]).build());
    expectFailure(() => loaded.instantiate(() => {
      throw GuestFailure.limitExceeded("host_calls", "no calls allowed");
    }, TEST_LIMITS).handle(ANY_REQUEST), "limit_exceeded", "host_calls");
    const response = encode(frame("ok", 1, { value: null }));
    expect(statusOf(loaded.instantiate(() => response, TEST_LIMITS).handle(ANY_REQUEST))).to.equal(response.length);
  });
});
