import type { QuickJSHandle } from "quickjs-emscripten-core";
import { GuestFailure, type EngineLimits } from "./engine.js";
import type { Refusal } from "./quickjs-memory.js";
import { cutGuestText, joinGuestText } from "../guest-text.js";
import type { QuickJsText } from "./quickjs-text.js";

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
export function guestFailure(reader: QuickJsText, error: QuickJSHandle, limits: EngineLimits, stackBytes: number): GuestFailure {
  const t = reader.thrown(error);
  const name = t.name?.head;
  const message = t.message.head;
  const limit = overLimit(limits);
  if (name === "InternalError" && message === "out of memory") return GuestFailure.limitExceeded("memory", limit);
  // When it cannot even allocate the "out of memory" error, QuickJS throws null; by the time
  // the host sees it the heap has been freed, so a guest's own `throw null` looks the same.
  if (message === "threw null") return GuestFailure.limitExceeded("memory", `${limit} (QuickJS threw null, as it does when it cannot allocate the error; a guest's own \`throw null\` reads the same)`);
  // JSON.parse reports the same overflow as a SyntaxError.
  if (message === "stack overflow") {
    return GuestFailure.limitExceeded("stack", `the guest's calls nested deeper than its stack limit of ${Math.round(stackBytes / 1024)} KiB`);
  }
  const text = t.name && name ? joinGuestText(t.name, ": ", t.message) : t.message;
  return new GuestFailure("guest_error", cutGuestText(text), undefined, t.stack && cutGuestText(t.stack));
}
