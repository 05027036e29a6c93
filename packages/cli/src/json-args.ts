import { DEFAULT_LIMITS, isZkguestError, unsafeIntegerLiteral, ZkguestError, type Value } from "@zkguest/protocol";
import { readBoundedFile } from "./bounded-file.js";
import { UsageError, type CliIO } from "./cli-io.js";
import { readArgOrStdin } from "./read-input.js";

/**
 * The most bytes of JSON `--args` takes, inline, from a file or from stdin: the arguments travel
 * to the guest in one request frame, which the protocol's max_frame_bytes bounds (a larger text
 * could never be sent).
 */
export const MAX_ARGS_BYTES = DEFAULT_LIMITS.max_frame_bytes;

/**
 * The request's arguments of `--args` (absent: null), as every command that takes them reads
 * them: `@FILE` reads FILE, `-` stdin, anything else is the JSON itself; at most MAX_ARGS_BYTES,
 * and no integer JSON would round. `command` names the command in errors (`run`, `remote prove`).
 */
export async function readJsonArgs(command: string, option: string | undefined, io: CliIO): Promise<Value> {
  return parseJsonArgs(command, await argsText(command, option ?? "null", io));
}

async function argsText(command: string, option: string, io: CliIO): Promise<Buffer> {
  const tooLarge = (what: string) => () => new ZkguestError("frame_too_large", `${command}: --args ${what} is more than ${MAX_ARGS_BYTES} bytes, the largest request frame (max_frame_bytes)`);
  if (!option.startsWith("@")) return readArgOrStdin(option, io, MAX_ARGS_BYTES, tooLarge(option === "-" ? "- (standard input)" : "(inline)"));
  const file = option.slice(1);
  if (file === "") throw new UsageError(`${command}: --args @FILE needs a file name after the @`);
  try {
    return await readBoundedFile(file, MAX_ARGS_BYTES, tooLarge(`@${file}`));
  } catch (err) {
    if (isZkguestError(err) && err.code === "not_found") throw new ZkguestError("not_found", `${command}: --args @${err.message}`);
    throw err;
  }
}

/**
 * Refuses JSON text holding an integer beyond 2^53-1, which JSON.parse would round: `what` names
 * the text in the error (`run: --args`).
 */
export function refuseUnsafeIntegers(what: string, json: string): void {
  const big = unsafeIntegerLiteral(json);
  if (big !== undefined) throw new ZkguestError("malformed_frame", `${what} holds the integer ${big}, beyond 2^53-1, which JSON numbers cannot carry exactly: pass it as a decimal string (SPEC.md §4.1)`);
}

/** Any JSON value is a protocol Value; an integer beyond 2^53-1 is refused rather than rounded. */
function parseJsonArgs(command: string, bytes: Buffer): Value {
  const text = bytes.toString("utf8");
  refuseUnsafeIntegers(`${command}: --args`, text);
  try {
    return JSON.parse(text) as Value;
  } catch (err) {
    throw new UsageError(`${command}: --args is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}
