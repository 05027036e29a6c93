import { expect } from "chai";
import { encode, frame } from "@zkguest/protocol";
import { GuestFailure, type EngineLimits, type HostCallHandler } from "../src/engine/engine.js";
import { QuickJsEngine, type QuickJsGuest } from "../src/engine/quickjs.js";
import { MAX_GUEST_TEXT_BYTES } from "../src/guest-text.js";
import { memoryCapFor } from "../src/engine/quickjs-memory.js";
import { bundleController, LIMITS, rawGuest, start, failureOf } from "./quickjs-helpers.js";

// Hostile guests: each is contained with a typed error, and the engine serves a well-behaved
// guest right after. They speak the transport directly (no SDK) to do what the SDK would not.

/** Runs `body` as the guest's __zkguest_handle and returns what it reports (as JSON) or throws its failure. */
function runHandle(engine: QuickJsEngine, body: string, options: { host?: HostCallHandler; limits?: EngineLimits; top?: string } = {}): unknown {
  const source = `${options.top ?? ""}
    const text = (s) => Uint8Array.from(s, (c) => c.charCodeAt(0)).buffer;
    globalThis.__zkguest_handle = async (frame) => text(JSON.stringify(await (async () => { ${body} })()));`;
  const instance = engine.load(rawGuest(source)).instantiate(options.host ?? (() => new Uint8Array(0)), options.limits ?? LIMITS);
  try {
    return JSON.parse(String.fromCharCode(...instance.handle(new Uint8Array(1))));
  } finally {
    instance.dispose();
  }
}

describe("QuickJS engine: hostile guests", function () {
  let engine: QuickJsEngine;
  let example: QuickJsGuest;

  before(async () => {
    engine = await QuickJsEngine.create();
    example = engine.load(await bundleController("examples/hello-js/controller.ts"));
  });

  /** The engine still runs a well-behaved guest through a whole conversation (on a fresh module after a memory limit). */
  afterEach(async () => {
    await engine.ready();
    const { host, conversation } = start(example);
    expect(conversation.hello().kind).to.equal("ok");
    expect(conversation.witnessGet({ numbers: [1, 2] }).kind).to.equal("ok");
    expect(host.requests.map((m) => m.kind)).to.deep.equal(["log", "witness.ready"]);
    conversation.instance.dispose();
  });

  it("finds no way to the host: process, require, module loading, Function, constructors of host functions", () => {
    const report = runHandle(
      engine,
      `
      const probe = (f) => { try { return String(f()); } catch (e) { return e.name + ": " + e.message; } };
      let imported;
      try { await import("node:fs"); imported = "loaded"; } catch (e) { imported = e.name; }
      return {
        globals: ["process", "require", "module", "Buffer", "fetch", "setTimeout", "setInterval", "queueMicrotask", "WebAssembly", "std", "os", "crypto"].map((n) => typeof globalThis[n]),
        viaFunction: probe(() => Function("return typeof process + typeof require")()),
        viaHostFunction: probe(() => __zkguest_call.constructor("return typeof process")()),
        viaAsyncFunction: await Object.getPrototypeOf(async () => {}).constructor("return typeof process")(),
        hostSource: probe(() => __zkguest_call.toString().includes("native")),
        imported,
      };`,
    );
    expect(report).to.deep.equal({
      globals: Array(12).fill("undefined"),
      viaFunction: "undefinedundefined",
      viaHostFunction: "undefined",
      viaAsyncFunction: "undefined",
      hostSource: "true",
      imported: "ReferenceError",
    });
  });

  it("prototype tricks stay inside the guest: polluted builtins and a getter for __zkguest_handle", () => {
    const polluted = runHandle(
      engine,
      `Object.prototype.toString = () => "hacked"; Array.prototype.slice = () => { throw 1; }; ArrayBuffer.prototype.slice = () => { throw 2; };
       Object.defineProperty(Uint8Array.prototype, "length", { get() { throw 3; } });
       return "still answered";`,
    );
    expect(polluted).to.equal("still answered");
    expect(String({}), "the host's own Object.prototype is untouched").to.equal("[object Object]");
    // A thenable Object.prototype makes the guest's own async answer hang: its failure, contained.
    const hung = failureOf(() => runHandle(engine, "Object.prototype.then = () => {}; return 1;"));
    expect(hung).to.include({ code: "guest_error" });
    expect(hung.message).to.contain("can never settle");
    // A getter on the global runs when the host looks the handler up: the time limit bounds it.
    const source = `Object.defineProperty(globalThis, "__zkguest_handle", { get() { for (;;) {} } });`;
    const failure = failureOf(() => engine.load(rawGuest(source)).instantiate(() => new Uint8Array(0), { ...LIMITS, timeMs: 100 }));
    expect(failure).to.include({ code: "limit_exceeded", limit: "time" });
  });

  it("stops an infinite loop at the time limit, even one that catches", () => {
    const started = performance.now();
    const failure = failureOf(() => runHandle(engine, "for (;;) { try { for (;;) {} } catch {} }", { limits: { ...LIMITS, timeMs: 150 } }));
    expect(failure).to.include({ code: "limit_exceeded", limit: "time" });
    expect(failure.message).to.contain("150 ms");
    expect(performance.now() - started).to.be.below(1500);
    // At top level too: evaluating the module is under the same limit.
    const top = failureOf(() => engine.load(rawGuest("for (;;) {}")).instantiate(() => new Uint8Array(0), { ...LIMITS, timeMs: 100 }));
    expect(top).to.include({ limit: "time" });
  });

  it("stops memory bombs at the memory limit", async () => {
    const limits = { ...LIMITS, memoryBytes: 16 * 1024 * 1024 };
    for (const bomb of ["const a = []; for (;;) a.push(new Uint8Array(1 << 20));", "const a = []; for (;;) a.push({ a, b: [1, 2, 3] });", 'return "y".repeat(2 ** 29);']) {
      // Each memory limit retires the module: the next run is on a fresh one.
      await engine.ready();
      const failure = failureOf(() => runHandle(engine, bomb, { limits }));
      expect(failure, bomb).to.include({ code: "limit_exceeded", limit: "memory" });
    }
  });

  it("stops deep recursion at the stack limit, in JS and inside builtins", () => {
    for (const deep of [
      "const f = () => f() + 1; return f();",
      'let o = []; for (let i = 0; i < 100000; i++) o = [o]; return JSON.stringify(o).length;',
      'return JSON.parse("[".repeat(100000));',
      "let o = []; for (let i = 0; i < 100000; i++) o = [o]; return String(o).length;",
      "const p = new Proxy({}, { get: (t, k, r) => r[k] }); return p.x;",
    ]) {
      const failure = failureOf(() => runHandle(engine, deep));
      expect(failure, deep).to.include({ code: "limit_exceeded", limit: "stack" });
    }
    expect(engine.healthy).to.equal(true);
  });

  it("ends the run on a frame over the size limit, in either direction, even if the guest catches", () => {
    const limits = { ...LIMITS, maxFrameBytes: 1000 };
    const out = failureOf(() => runHandle(engine, "try { __zkguest_call(new ArrayBuffer(1001)); } catch {} return 1;", { limits }));
    expect(out).to.include({ code: "limit_exceeded", limit: "frame_size" });
    const back = failureOf(() => {
      const instance = engine.load(rawGuest("globalThis.__zkguest_handle = () => new ArrayBuffer(1001);")).instantiate(() => new Uint8Array(0), limits);
      instance.handle(new Uint8Array(1));
    });
    expect(back).to.include({ code: "limit_exceeded", limit: "frame_size" });
  });

  it("answers malformed frames: a TypeError for what is not a frame, the host's error for bad bytes", () => {
    const host = (request: Uint8Array) => encode(frame("error", 0, { code: "malformed_frame", message: `got ${request.length} bytes` }));
    const report = runHandle(
      engine,
      `const r = [];
       for (const bad of [42, "text", new Uint8Array(3), undefined]) { try { __zkguest_call(bad); r.push("accepted"); } catch (e) { r.push(e.name); } }
       r.push(__zkguest_call(new Uint8Array([0xc1, 0xff]).buffer).byteLength > 0);
       return r;`,
      { host },
    );
    expect(report).to.deep.equal(["TypeError", "TypeError", "TypeError", "TypeError", true]);
    const notAFrame = failureOf(() => engine.load(rawGuest("globalThis.__zkguest_handle = () => 42;")).instantiate(() => new Uint8Array(0), LIMITS).handle(new Uint8Array(1)));
    expect(notAFrame).to.include({ code: "guest_error" });
    expect(notAFrame.message).to.contain("must be an ArrayBuffer");
  });

  it("keeps the host's limit when a guest catches it and floods on", () => {
    let calls = 0;
    const host = () => {
      if (++calls > 100) throw GuestFailure.limitExceeded("host_calls", "more than 100 host calls");
      return new Uint8Array([0xc0]);
    };
    const failure = failureOf(() => runHandle(engine, "for (;;) { try { __zkguest_call(new ArrayBuffer(1)); } catch {} }", { host }));
    expect(failure).to.include({ code: "limit_exceeded", limit: "host_calls" });
    expect(calls, "no host call after the limit").to.equal(101);
  });

  it("reads a guest's text within MAX_GUEST_TEXT_BYTES: thrown messages, strings, objects, stacks, console lines", () => {
    const within = (text: string) => expect(Buffer.byteLength(text, "utf8")).to.be.at.most(MAX_GUEST_TEXT_BYTES);
    const big = "x".repeat(100_000);
    for (const [thrown, expected] of [
      [`new RangeError("${big}")`, /^RangeError: x+ … \[cut: \d+ more characters\]$/],
      [`"${big}"`, /^threw "x+ … \[cut: \d+ more characters\]$/],
      [`{ detail: "${big}" }`, /^\{"detail":"x+ … \[cut: \d+ more characters\]$/],
      [`Object.assign(new Error("m"), { name: "${big}" })`, /^x+ … \[cut: \d+ more characters\]$/],
    ] as const) {
      const failure = failureOf(() => runHandle(engine, `throw ${thrown};`));
      within(failure.message);
      expect(failure.message, thrown.slice(0, 20)).to.match(expected);
    }
    const deep = failureOf(() => runHandle(engine, `const e = new Error("deep"); e.stack = "${big}"; throw e;`));
    within(deep.guestStack!);
    const instance = engine.load(rawGuest(`console.log("${big}"); globalThis.__zkguest_handle = (f) => f;`)).instantiate(() => new Uint8Array(0), LIMITS);
    const [line] = instance.drainOutput();
    instance.dispose();
    within(line!.message);
  });

  it("bounds console floods", () => {
    const instance = engine.load(rawGuest(`for (let i = 0; i < 20000; i++) console.log("x".repeat(100)); globalThis.__zkguest_handle = (f) => f;`)).instantiate(() => new Uint8Array(0), LIMITS);
    const lines = instance.drainOutput();
    expect(lines.reduce((n, l) => n + l.message.length, 0)).to.be.below(1.1 * 1024 * 1024);
    expect(lines.at(-1)!.message).to.match(/bytes dropped/);
    instance.dispose();
  });
});

describe("QuickJS engine: a host-level trap", function () {
  it("is reported as a stack limit, and the engine reloads the module before the next run", async () => {
    // Without the cap, QuickJS's stack (4 MiB here) outlasts V8's native stack (about 1 MiB on
    // the main thread): V8 throws in the middle of QuickJS code.
    // On the shared module (no snapshots): the test is about reloading it.
    const engine = await QuickJsEngine.create({ maxStackBytes: 4 * 1024 * 1024, snapshots: false });
    const guest = engine.load(rawGuest("globalThis.__zkguest_handle = () => { const f = () => f() + 1; f(); };"));
    const instance = guest.instantiate(() => new Uint8Array(0), { ...LIMITS, stackBytes: 4 * 1024 * 1024 });
    const failure = failureOf(() => instance.handle(new Uint8Array(1)));
    instance.dispose();
    expect(failure).to.include({ code: "limit_exceeded", limit: "stack" });
    expect(failure.message).to.contain("native stack");
    expect(engine.healthy).to.equal(false);
    expect(() => guest.instantiate(() => new Uint8Array(0), LIMITS)).to.throw(/await engine.ready/);
    await engine.ready();
    expect(engine.healthy).to.equal(true);
    const { conversation } = start(engine.load(await bundleController("examples/hello-js/controller.ts")));
    expect(conversation.hello().kind).to.equal("ok");
    conversation.instance.dispose();
  });
});

describe("QuickJS engine: a guest's 180 MB error message", function () {
  this.timeout(30_000);
  it("is cut inside QuickJS: the host reads 8 KiB of it, not 180 MB", async () => {
    const memoryBytes = 512 * 1024 * 1024;
    const engine = await QuickJsEngine.create({ memoryCapBytes: memoryCapFor(memoryBytes), snapshots: false });
    const failure = failureOf(() => runHandle(engine, `throw new Error("x".repeat(180e6));`, { limits: { ...LIMITS, memoryBytes } }));
    expect(failure.code).to.equal("guest_error");
    expect(Buffer.byteLength(failure.message, "utf8")).to.be.at.most(MAX_GUEST_TEXT_BYTES);
    const kept = failure.message.length - " … [cut: 179991852 more characters]".length;
    expect(failure.message).to.equal(`Error: ${"x".repeat(kept - 7)} … [cut: ${180e6 + 7 - kept} more characters]`);
  });
});
