import { parentPort } from "node:worker_threads";
import type { JobMessage } from "../src/pool/messages.js";
// The real worker, first: its listener must be in place before any message is dispatched.
import "../src/pool/worker.js";

// The pool's worker, with ways to die on purpose, by the job's program name, as a bug in the
// worker, an engine abort or a runaway allocation would:
// - "crash": throws out of a message listener (an uncaught exception ends the thread);
// - "segv": a native crash of the whole sandbox process (SIGSEGV, as a fault in native code);
// - "heap": fills the thread's JS heap until V8 stops it (ERR_WORKER_OUT_OF_MEMORY);
// - "fatal-heap": throws an error whose message is larger than the heap: V8 runs out of heap
//   while serializing it for the thread's 'error' event, where it cannot throw: a fatal error
//   that aborts the whole process (as a guest's 180 MB error message once did to the host).
// - "hang": blocks its thread forever before the guest starts (the load timeout).
parentPort!.on("message", (job: JobMessage) => {
  switch (job.program) {
    case "crash":
      throw new Error("the test worker crashes on purpose");
    case "segv":
      process.kill(process.pid, "SIGSEGV");
      for (;;);
    case "heap": {
      const hoard: unknown[] = [];
      for (;;) hoard.push(new Array(100_000).fill({ n: hoard.length }));
    }
    case "fatal-heap":
      throw new Error("x".repeat(60e6));
    case "hang":
      for (;;);
  }
});
