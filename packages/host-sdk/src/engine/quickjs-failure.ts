import type { QuickJSContext, QuickJSHandle } from "quickjs-emscripten-core";
import { GuestFailure, type EngineLimits } from "./engine.js";
import type { Refusal } from "./quickjs-memory.js";

/** What a value thrown inside QuickJS says about itself, read without running guest code. */
interface Thrown {
  readonly name?: string;
  readonly message: string;
  readonly stack?: string;
}

/**
 * Reads a thrown value. `dump` reads an Error's own name, message and stack (data properties
 * in QuickJS) and copies other values out as JSON; a value whose properties are getters could
 * run guest code, which the interrupt handler still bounds.
 */
function readThrown(context: QuickJSContext, error: QuickJSHandle): Thrown {
  // dump() disposes a promise it is given: give it a copy, and free the copy if it did not.
  const copy = error.dup();
  try {
    const v: unknown = context.dump(copy);
    if (v && typeof v === "object") {
      const e = v as { name?: unknown; message?: unknown; stack?: unknown; code?: unknown };
      const message = typeof e.message === "string" ? e.message : JSON.stringify(v);
      return {
        name: typeof e.name === "string" ? e.name : undefined,
        // A ZkguestError from the SDK carries its protocol code: keep it in the message.
        message: typeof e.code === "string" ? `[${e.code}] ${message}` : message,
        stack: typeof e.stack === "string" && e.stack ? e.stack : undefined,
      };
    }
    return { message: `threw ${typeof v === "string" ? JSON.stringify(v) : String(v)}` };
  } catch {
    return { message: "threw a value that cannot be read" };
  } finally {
    if (copy.alive) copy.dispose();
  }
}

const MiB = 1024 * 1024;
const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;

const overLimit = (limits: EngineLimits) => `the guest used more than its memory limit of ${mib(limits.memoryBytes)}`;

/**
 * The failure of a run whose heap could not grow (see quickjs-memory.ts): past the guest's
 * limit, or past the engine's cap when the guest's limit is above what the cap leaves it.
 */
export function memoryFailure(limits: EngineLimits, refused: Refusal, grownBytes: number, capBytes: number): GuestFailure {
  const grown = `its QuickJS heap grew by ${mib(grownBytes)} in this run`;
  return GuestFailure.limitExceeded(
    "memory",
    refused === "limit"
      ? `${overLimit(limits)} (${grown} and may grow no further)`
      : `the guest needed more memory than the QuickJS engine's cap of ${mib(capBytes)} (${grown}; its memory limit is ${mib(limits.memoryBytes)})`,
  );
}

/**
 * The GuestFailure for an exception that came out of the guest. QuickJS reports its own limits
 * as InternalErrors: "out of memory" (the runtime's memory limit, or a heap that may not grow:
 * see quickjs-memory.ts), "stack overflow" (its stack
 * limit; a SyntaxError from JSON.parse) and "interrupted" (the interrupt handler: the time limit, or a run that is ending).
 * A guest can catch the first two and go on; when one escapes, the run ends on that limit.
 */
export function guestFailure(context: QuickJSContext, error: QuickJSHandle, limits: EngineLimits, stackBytes: number): GuestFailure {
  const t = readThrown(context, error);
  const limit = overLimit(limits);
  if (t.name === "InternalError" && t.message === "out of memory") return GuestFailure.limitExceeded("memory", limit);
  // When it cannot even allocate the "out of memory" error, QuickJS throws null; by the time
  // the host sees it the heap has been freed, so a guest's own `throw null` looks the same.
  if (t.message === "threw null") return GuestFailure.limitExceeded("memory", `${limit} (QuickJS threw null, as it does when it cannot allocate the error; a guest's own \`throw null\` reads the same)`);
  // JSON.parse reports the same overflow as a SyntaxError.
  if (t.message === "stack overflow") {
    return GuestFailure.limitExceeded("stack", `the guest's calls nested deeper than its stack limit of ${Math.round(stackBytes / 1024)} KiB`);
  }
  return new GuestFailure("guest_error", t.name ? `${t.name}: ${t.message}` : t.message, undefined, t.stack);
}
