import { expect } from "chai";
import { once } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { Worker } from "node:worker_threads";
import { LIMITS } from "./quickjs-helpers.js";

describe("QuickJS engine: a guest stuck inside a builtin", function () {
  it("is not stopped by the interrupt handler, and terminating its worker thread stops it at once", async () => {
    const source = "globalThis.__zkguest_handle = () => { new Array(1e9).join(); return new ArrayBuffer(0); };";
    const worker = new Worker(new URL("./quickjs-stuck-worker.js", import.meta.url), { workerData: { source, limits: { ...LIMITS, timeMs: 100 } } });
    const events: string[] = [];
    worker.on("message", (m: { event: string }) => events.push(m.event));
    while (!events.includes("calling")) await sleep(10);
    // Ten times the time limit: the interrupt handler runs between bytecodes, not inside join().
    await sleep(1000);
    expect(events).to.deep.equal(["calling"]);
    const started = performance.now();
    const exited = once(worker, "exit");
    await worker.terminate();
    await exited;
    expect(performance.now() - started, "ms to terminate").to.be.below(1000);
  });
});
