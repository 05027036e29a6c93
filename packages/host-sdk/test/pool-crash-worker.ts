import { parentPort } from "node:worker_threads";
import type { JobMessage } from "../src/pool/messages.js";
// The real worker, first: its listener must be in place before any message is dispatched.
import "../src/pool/worker.js";

// The pool's worker, with a way to crash it on purpose: a job for the program "crash" throws
// out of a message listener (an uncaught exception ends the thread), as a bug in the worker
// or an engine abort would.
parentPort!.on("message", (job: JobMessage) => {
  if (job.program === "crash") throw new Error("the test worker crashes on purpose");
});
