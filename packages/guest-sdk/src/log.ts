import { ZkguestError, type LogLevel } from "@zkguest/protocol/core";
import { name, str, value } from "@zkguest/protocol/wire";
import { activeSession } from "./session.js";
import { utf8Length } from "@zkguest/protocol/wire";

/** Log fields: a map of names to protocol Values (numbers, strings, booleans, null, bytes, arrays, maps). */
export type LogFields = { readonly [name: string]: unknown };

function send(level: LogLevel, message: string, fields?: LogFields): void {
  const session = activeSession();
  const text = String(message);
  const max = session.limits.max_log_message_bytes;
  if (utf8Length(text) > max) {
    throw new ZkguestError("limit_exceeded", `log message is longer than the host's limit of ${max} bytes`);
  }
  if (fields !== undefined && (typeof fields !== "object" || fields === null || Array.isArray(fields) || fields instanceof Uint8Array)) {
    throw new ZkguestError("malformed_frame", "log fields must be a map of names to values");
  }
  const answer = session.request("log", fields === undefined ? 2 : 3, () => {
    if (fields !== undefined) {
      name("fields");
      // body.fields is a map at nesting level 3 (envelope, body, fields).
      value(fields, "fields", 3);
    }
    name("level");
    name(level);
    name("message");
    str(text);
  });
  if (answer !== null) throw new ZkguestError("malformed_frame", "the host answered log with something other than nil");
}

/**
 * The run's log, kept by the host in the run report and passed to the entrypoint. A message
 * longer than the host's max_log_message_bytes throws limit_exceeded (it is never cut short).
 */
export const log = {
  debug: (message: string, fields?: LogFields): void => send("debug", message, fields),
  info: (message: string, fields?: LogFields): void => send("info", message, fields),
  warn: (message: string, fields?: LogFields): void => send("warn", message, fields),
  error: (message: string, fields?: LogFields): void => send("error", message, fields),
};
