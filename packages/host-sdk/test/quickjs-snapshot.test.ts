import { expect } from "chai";
import type { HostCallHandler } from "../src/engine/engine.js";
import { QuickJsEngine, type QuickJsGuest, type QuickJsInstance } from "../src/engine/quickjs.js";
import { isDiscarded, loadPrivateQuickJsModule, quickJsMemory } from "../src/engine/quickjs-module.js";
import { deadStackOf, quickJsLayout, readQuickJsLayout } from "../src/engine/quickjs-layout.js";
import { findBreakAddress } from "../src/engine/quickjs-snapshot.js";
import { failureOf, LIMITS, rawGuest } from "./quickjs-helpers.js";

// Snapshots (quickjs-snapshot.ts): a guest's first instance is evaluated on the engine's
// snapshot family (one module for all guests) and the pages it changed are kept; later
// instances restore them. Whatever a run does, the next one must start from exactly the
// evaluated state, as a fresh evaluation would.

const MiB = 1024 * 1024;
const echo: HostCallHandler = (request) => request;
const decoder = new TextDecoder();

/** A guest whose __zkguest_handle runs `body` (the request's first byte is `byte`) and returns what it returns, as JSON text in an ArrayBuffer. */
function guestReturning(prologue: string, body: string): Uint8Array {
  return rawGuest(`${prologue}
    const toBytes = (s) => { const b = new Uint8Array(s.length); for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 255; return b.buffer; };
    globalThis.__zkguest_handle = (frame) => { const byte = new Uint8Array(frame)[0]; return toBytes(JSON.stringify((() => { ${body} })())); };`);
}

/** One instance: instantiate, one request, dispose; its answer parsed and the module it ran on. */
function runOnce(guest: QuickJsGuest, host: HostCallHandler = echo, limits = LIMITS, byte = 0): { answer: unknown; instance: QuickJsInstance } {
  const instance = guest.instantiate(host, limits);
  try {
    return { answer: JSON.parse(decoder.decode(instance.handle(new Uint8Array([byte])))), instance };
  } finally {
    instance.dispose();
  }
}

describe("QuickJS engine: snapshots", function () {
  let engine: QuickJsEngine;

  beforeEach(async () => {
    engine = await QuickJsEngine.create({ snapshots: true });
  });

  it("each run starts from the evaluated state: module state, Math.random, the clock, a zeroed buffer at the heap's end", async () => {
    // The buffer is allocated last and holds zeros: the snapshot must still cover it (it is below the allocator's break).
    const code = guestReturning(
      "let runs = 0; const seen = []; const randoms = [Math.random()]; const scratch = new Uint8Array(1 << 16);",
      "runs++; seen.push(runs); let sum = 0; for (const b of scratch) sum += b; scratch.fill(7); return [runs, seen.length, Math.random(), Date.now(), sum, randoms];",
    );
    const guest = engine.load(code);
    const first = runOnce(guest);
    const later = [1, 2, 3, 4].map(() => runOnce(guest));
    for (const run of later) {
      expect(run.instance.module, "restored on the family's module").to.equal(first.instance.module);
      expect(run.answer).to.deep.equal(first.answer);
    }
    // The same as a guest evaluated afresh, with no snapshot anywhere.
    const fresh = await QuickJsEngine.create({ snapshots: false });
    expect(runOnce(fresh.load(code)).answer).to.deep.equal(first.answer);
    const [runs, seen, , , sum] = first.answer as number[];
    expect([runs, seen, sum], "one run, and the buffer as evaluated: zeros").to.deep.equal([1, 1, 0]);
  });

  it("a run that wrecks its realm (globals deleted, builtins replaced, big allocations) leaves the next run whole", () => {
    const guest = engine.load(
      guestReturning(
        "",
        `if (byte === 1) {
           const call = __zkguest_call;
           delete globalThis.__zkguest_call;
           Array.prototype.push = () => { throw new Error("pushed"); };
           JSON.stringify = () => "[\\"wrecked\\"]";
           globalThis.keep = Array.from({ length: 64 }, () => new Uint8Array(1 << 16).fill(1));
           return ["wrecked", typeof call];
         }
         const reply = new Uint8Array(__zkguest_call(new Uint8Array([1, 2, 3]).buffer));
         const a = []; a.push(reply.length);
         return a;`,
      ),
    );
    const runs = [runOnce(guest), runOnce(guest, echo, LIMITS, 1), runOnce(guest), runOnce(guest)];
    expect(runs.map((r) => r.answer)).to.deep.equal([[3], ["wrecked", "function"], [3], [3]]);
    expect(new Set(runs.map((r) => r.instance.module)).size, "all on the snapshot's module").to.equal(1);
  });

  it("a run that recursed deep (the stack, which restores skip, left dirty) leaves the next run the same", () => {
    const guest = engine.load(guestReturning("const table = [1, 2, 3];", "if (byte === 1) { let depth = 0; const f = () => { depth++; f(); }; try { f(); } catch {} return depth > 100; } return table.map((x) => x * 2);"));
    const runs = [runOnce(guest), runOnce(guest, echo, LIMITS, 1), runOnce(guest), runOnce(guest)];
    expect(runs.map((r) => r.answer)).to.deep.equal([[2, 4, 6], true, [2, 4, 6], [2, 4, 6]]);
    expect(new Set(runs.map((r) => r.instance.module)).size, "all on the snapshot's module").to.equal(1);
  });

  it("limits hold on restored instances: a run that loops, or bombs memory, ends with the limit and the next run is whole", async () => {
    const guest = engine.load(
      guestReturning("const table = [1, 2, 3];", "if (byte === 1) for (;;) {} if (byte === 2) { const a = []; for (;;) a.push(new Uint8Array(65536)); } return table;"),
    );
    const limits = { ...LIMITS, timeMs: 200, memoryBytes: 8 * MiB };
    const first = runOnce(guest, echo, limits);
    const loop = guest.instantiate(echo, limits);
    expect(loop.module, "restored").to.equal(first.instance.module);
    expect(failureOf(() => loop.handle(new Uint8Array([1])))).to.include({ code: "limit_exceeded", limit: "time" });
    loop.dispose();
    const afterLoop = runOnce(guest, echo, limits);
    expect(afterLoop.answer).to.deep.equal([1, 2, 3]);
    expect(afterLoop.instance.module, "a time limit keeps the snapshot").to.equal(first.instance.module);
    const bomb = guest.instantiate(echo, limits);
    expect(failureOf(() => bomb.handle(new Uint8Array([2])))).to.include({ code: "limit_exceeded", limit: "memory" });
    bomb.dispose();
    expect(isDiscarded(first.instance.module), "a memory limit retires the snapshot's module").to.equal(true);
    await engine.ready();
    const afterBomb = runOnce(guest, echo, limits);
    expect(afterBomb.answer).to.deep.equal([1, 2, 3]);
    expect(afterBomb.instance.module).to.not.equal(first.instance.module);
  });

  it("a guest whose evaluation prints or calls the host is evaluated at every run, so that it does both every time", () => {
    let calls = 0;
    const guest = engine.load(rawGuest(`console.log("loading"); globalThis.__zkguest_handle = (f) => f;`));
    const outputs = [0, 1, 2].map(() => {
      const instance = guest.instantiate(() => (calls++, new Uint8Array(0)), LIMITS);
      const lines = instance.drainOutput().map((l) => l.message);
      instance.dispose();
      return lines;
    });
    expect(outputs).to.deep.equal([["loading"], ["loading"], ["loading"]]);
    const calling = engine.load(rawGuest(`try { __zkguest_call(new ArrayBuffer(1)); } catch {} globalThis.__zkguest_handle = (f) => f;`));
    for (let i = 0; i < 3; i++) calling.instantiate(() => (calls++, new Uint8Array(1)), LIMITS).dispose();
    expect(calls).to.equal(3);
  });

  it("an instance made while another runs on the snapshot, or with another seed, is evaluated on the shared module", () => {
    const guest = engine.load(guestReturning("const r = Math.random();", "return r;"));
    const first = guest.instantiate(echo, LIMITS);
    const second = guest.instantiate(echo, LIMITS);
    expect(second.module).to.equal(engine.module());
    expect(first.module).to.not.equal(engine.module());
    const a = JSON.parse(decoder.decode(first.handle(new Uint8Array(1))));
    expect(JSON.parse(decoder.decode(second.handle(new Uint8Array(1))))).to.equal(a);
    first.dispose();
    second.dispose();
    const seeded = guest.instantiate(echo, LIMITS, { randomSeed: "other" });
    expect(seeded.module).to.equal(engine.module());
    expect(JSON.parse(decoder.decode(seeded.handle(new Uint8Array(1))))).to.not.equal(a);
    seeded.dispose();
  });

  it("every guest keeps a snapshot on the one family module, as the pages it changed; a retired module's successor keeps them all", async () => {
    const guests = Array.from({ length: 20 }, (_, i) => engine.load(guestReturning(`const mine = ${i}; const table = new Array(1000).fill(${i});`, "return [mine, table.length];")));
    const family = engine.family()!;
    for (const [i, guest] of guests.entries()) expect(runOnce(guest).answer).to.deep.equal([i, 1000]);
    for (const [i, guest] of guests.entries()) {
      const run = runOnce(guest);
      expect(run.answer).to.deep.equal([i, 1000]);
      expect(run.instance.module, "restored on the family's module").to.equal(family.realm.module);
      // The source (twice its length) and the pages: a fraction of the 1.4 MB whole copy.
      expect(guest.retainedBytes - 2 * guest.source.length).to.be.within(4096, 512 * 1024);
    }
    // A run that grows the memory retires the family's module; the next family, made the same
    // way on a fresh module, has the same base: every snapshot still applies.
    const grower = engine.load(guestReturning("", "globalThis.big = new Uint8Array(24 << 20); return 1;"));
    runOnce(grower, echo, { ...LIMITS, memoryBytes: 64 * MiB });
    runOnce(grower, echo, { ...LIMITS, memoryBytes: 64 * MiB });
    expect(isDiscarded(family.realm.module)).to.equal(true);
    await engine.ready();
    const next = engine.family()!;
    expect(next.realm.module).to.not.equal(family.realm.module);
    expect(next.generation, "the same base").to.equal(family.generation);
    for (const [i, guest] of guests.entries()) expect(runOnce(guest).answer).to.deep.equal([i, 1000]);
  });

  it("a snapshot whose memory grew past what a run's limit allows is not used for that run", async () => {
    const guest = engine.load(guestReturning("", "globalThis.big = new Uint8Array(24 << 20); return big.length;"));
    const grown = runOnce(guest, echo, { ...LIMITS, memoryBytes: 64 * MiB });
    expect(grown.answer).to.equal(24 * MiB);
    await engine.ready();
    const small = guest.instantiate(echo, { ...LIMITS, memoryBytes: 4 * MiB });
    expect(small.module, "not on the grown module").to.not.equal(grown.instance.module);
    small.dispose();
  });

  it("reads the QuickJS build's layout: static data, then the stack, then the heap, with the break in static data", async () => {
    const layout = quickJsLayout()!;
    expect(layout.dataEnd).to.be.within(1, 1024 * 1024);
    const dead = deadStackOf(layout)!;
    expect(dead.end).to.equal(layout.stackTop);
    const module = await loadPrivateQuickJsModule(256 * MiB);
    const address = findBreakAddress(module, quickJsMemory(module))!;
    expect(address, "the break is static data, below what restores skip").to.be.below(dead.start);
    const heap = (module as unknown as { module: { _malloc(n: number): number } }).module;
    expect(heap._malloc(16), "the heap starts above the stack").to.be.at.least(layout.stackTop);
    expect(readQuickJsLayout(new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 6, 2, 1]))).to.equal(undefined);
  });

  it("finds the allocator's break: it moves by exactly what the heap grows", async () => {
    const probe = await loadPrivateQuickJsModule(256 * MiB);
    const address = findBreakAddress(probe, quickJsMemory(probe));
    expect(address).to.be.a("number");
    const module = await loadPrivateQuickJsModule(256 * MiB);
    const context = module.newContext();
    const brk = () => new DataView(quickJsMemory(module).memory.buffer).getUint32(address!, true);
    const before = brk();
    const buffer = context.newArrayBuffer(new ArrayBuffer(3 * MiB));
    expect(brk() - before).to.be.within(3 * MiB, 3 * MiB + 64 * 1024);
    buffer.dispose();
    context.dispose();
  });
});
