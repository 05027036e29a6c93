import { parentPort, workerData } from "node:worker_threads";
import type { EngineLimits } from "../src/engine/engine.js";
import { QuickJsEngine } from "../src/engine/quickjs.js";

// A worker thread that runs one guest call and reports how it ended; quickjs-worker.test.ts
// uses it to check that terminating the thread stops a guest stuck inside a builtin.

const { source, limits } = workerData as { source: string; limits: EngineLimits };
const engine = await QuickJsEngine.create();
const instance = engine.load(new TextEncoder().encode(source)).instantiate(() => new Uint8Array(0), limits);
parentPort!.postMessage({ event: "calling" });
try {
  instance.handle(new Uint8Array(1));
  parentPort!.postMessage({ event: "returned" });
} catch (e) {
  parentPort!.postMessage({ event: "failed", message: e instanceof Error ? e.message : String(e) });
}
