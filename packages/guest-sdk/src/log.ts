import { ZkguestError, type LogLevel } from "@zkguest/protocol/core";
import { frameStart, name, str, utf8Length, value } from "@zkguest/protocol/wire";
import { logFields } from "./log-fields.js";
import { activeSession } from "./session.js";

/**
 * Log fields: a map of names to values. Protocol Values (numbers, strings, booleans, null,
 * bytes, arrays, maps) are logged as they are; bigint, NaN, Date, Error and the rest are
 * converted or refused in place by the rule of log-fields.ts (docs/guest-authors.md), never
 * thrown over.
 */
export type LogFields = { readonly [name: string]: unknown };

/** A log frame without fields up to its message (`{body: {level: <level>, message: `), per level: encoded once. */
const starts = new Map<LogLevel, Uint8Array>();
function startOf(level: LogLevel): Uint8Array {
  let bytes = starts.get(level);
  if (!bytes) {
    bytes = frameStart(2, () => {
      name("level");
      name(level);
      name("message");
    });
    starts.set(level, bytes);
  }
  return bytes;
}

function send(level: LogLevel, message: string, fields?: LogFields): void {
  const session = activeSession();
  const text = typeof message === "string" ? message : messageText(message);
  const max = session.limits.max_log_message_bytes;
  // UTF-8 takes at most 3 bytes per UTF-16 unit: only a message that may be too long is measured.
  if (text.length * 3 > max && utf8Length(text) > max) {
    throw new ZkguestError("limit_exceeded", `log message is longer than the host's limit of ${max} bytes`);
  }
  // Converted before the frame is begun: a getter in the fields may itself call the SDK.
  const converted = fields === undefined ? undefined : logFields(fields);
  const answer =
    converted === undefined
      ? session.requestEndingIn("log", startOf(level), text)
      : session.request("log", 3, () => {
          name("fields");
          // body.fields is a map at nesting level 3 (envelope, body, fields).
          value(converted, "fields", 3);
          name("level");
          name(level);
          name("message");
          str(text);
        });
  if (answer !== null) throw new ZkguestError("malformed_frame", "the host answered log with something other than nil");
}

/** A message that is not a string, as text; one that cannot be made text says so rather than throwing. */
function messageText(message: unknown): string {
  try {
    return String(message);
  } catch {
    return "[a message that cannot be made a string]";
  }
}

/**
 * The run's log, kept by the host in the run report and passed to the entrypoint. A message
 * longer than the host's max_log_message_bytes throws limit_exceeded (it is never cut short);
 * fields are converted (log-fields.ts), never a reason to throw.
 */
export const log = {
  debug: (message: string, fields?: LogFields): void => send("debug", message, fields),
  info: (message: string, fields?: LogFields): void => send("info", message, fields),
  warn: (message: string, fields?: LogFields): void => send("warn", message, fields),
  error: (message: string, fields?: LogFields): void => send("error", message, fields),
};
