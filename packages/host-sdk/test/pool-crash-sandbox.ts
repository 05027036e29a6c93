import type { JobMessage } from "../src/pool/messages.js";
// The real sandbox, first: its listener must be in place before any message is dispatched.
import "../src/pool/sandbox-process.js";

// The pool's sandbox process, with ways to die on purpose, by the job's program name, as a bug
// in the sandbox, an engine abort or a runaway allocation would:
// - "crash": throws out of a message listener (an uncaught exception ends the process);
// - "segv": a native crash of the process (SIGSEGV, as a fault in native code);
// - "heap": fills the JS heap until V8's fatal out-of-memory aborts the process (V8 cannot
//   throw there: the way a guest's 180 MB error message once ended the host);
// - "hang": blocks the process forever before the guest starts (the load timeout).
process.on("message", (job: JobMessage) => {
  switch (job.program) {
    case "crash":
      throw new Error("the test sandbox crashes on purpose");
    case "segv":
      process.kill(process.pid, "SIGSEGV");
      for (;;);
    case "heap": {
      const hoard: unknown[] = [];
      for (;;) hoard.push(new Array(100_000).fill({ n: hoard.length }));
    }
    case "hang":
      for (;;);
  }
});
