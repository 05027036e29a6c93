import { Worker } from "node:worker_threads";
import { WORKER_DIED_EXIT_CODE, type DiedMessage, type JobMessage, type SandboxConfig, type SandboxMessage } from "./messages.js";

/**
 * A sandbox process: what the pool forks for each of its slots. Its one worker thread runs the
 * guests (pool/worker.ts); this main thread only passes messages between it and the host.
 *
 * Why a process: a guest must never be able to end the host. V8's fatal errors (an out-of-memory
 * in ArrayBuffer allocation or message serialization, a native crash) abort the whole process,
 * whatever a worker thread's resourceLimits say; here they end this process only, and the host
 * replaces it. Why a thread inside it: guests need a native stack of 16 times their own (see
 * quickjs-module.ts), which a worker thread can be given and a process's main thread cannot.
 *
 * The process never outlives the host: when the IPC channel closes (the host exited or was
 * killed), it exits.
 */
const config = JSON.parse(process.argv[2]!) as SandboxConfig;

const worker = new Worker(new URL(config.workerUrl), {
  workerData: config.worker,
  resourceLimits: { maxOldGenerationSizeMb: config.heapMb, stackSizeMb: config.stackMb },
});
let died: DiedMessage | undefined;

process.on("message", (job: JobMessage) => worker.postMessage(job));
process.on("disconnect", () => process.exit(0));
// The host may have gone while this process started (its 'disconnect' came before the listener).
if (!process.connected) process.exit(0);
worker.on("message", (message: SandboxMessage) => process.send!(message));
worker.on("error", (error: Error & { code?: string }) => {
  died = { kind: "died", message: error.message, ...(error.code === undefined ? {} : { code: error.code }), ...(error.stack === undefined ? {} : { stack: error.stack }) };
});
worker.on("exit", (code) => {
  const message: DiedMessage = died ?? { kind: "died", message: `the worker thread exited (code ${code})` };
  // Exit once the message is on its way: the host classifies the death by it.
  process.send!(message, undefined, {}, () => process.exit(WORKER_DIED_EXIT_CODE));
});
