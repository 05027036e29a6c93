import type { Fields, LogLevel, Value } from "@zkguest/protocol";

/**
 * The conformance controller contract, as protocol/CONFORMANCE.md defines it for implementers
 * in any language (this module follows that text): what a guest does, when the witness step's arguments ask
 * for it, so that the kits can see inside it. A guest built on an SDK cannot be made to touch
 * its disk from outside; a conformance controller (examples/conformance-guest holds one in C
 * and one in TypeScript) cooperates through its arguments and reports through its logs.
 *
 * The arguments are a map whose key `conformance` names the mode:
 *
 * | args | the controller, in its witness step |
 * |---|---|
 * | `{"conformance": "fs-errors"}` | performs each operation of FS_OPS once (paths under `/CONF`), logs one OP_REPORT line per operation with the error code it caught, or `ok`, then sends `witness.ready` with no witnesses and answers `ok` |
 * | `{"conformance": "frame-limit", "bytes": N}` | tries `fs.store` of N bytes (more than the host's `max_frame_bytes`), logs one OP_REPORT line with the code it caught (`frame_too_large` when the frame never left the guest), then `witness.ready` and `ok` |
 * | `{"conformance": "host"}` | the host kit's reference guest only: runs the host checks and logs CHECK_LINE and SUMMARY_LINE lines |
 *
 * With any other arguments a conformance controller behaves like an ordinary one: the witness
 * step sends one data witness; the entrypoint stores a successful proof at /var/share/proof.bin
 * and logs a failed one.
 *
 * OP_REPORT lines: level `info`, message `conformance.op`, fields `{code, op}`.
 * CHECK_LINE lines: level `info` (`error` when the check failed), message `conformance.check`,
 * fields `{check, detail, result}` with result `pass`, `fail` or `skip`.
 * SUMMARY_LINE: level `info` (`error` if any check failed), message `conformance.summary`,
 * fields `{fail, pass, skip}`, counts.
 */
export const CONTRACT_KEY = "conformance";

export type ContractMode = "fs-errors" | "frame-limit" | "host";

/** The witness step's arguments for a mode. */
export function contractArgs(mode: ContractMode, extra: Record<string, Value> = {}): Value {
  return { ...extra, [CONTRACT_KEY]: mode };
}

export const OP_REPORT = "conformance.op";
export const CHECK_LINE = "conformance.check";
export const SUMMARY_LINE = "conformance.summary";

/** The file operations a guest can ask of the host, in the order a controller performs them. */
export const FS_OPS = ["fs.store", "fs.read", "fs.list", "fs.stat", "fs.remove", "fs.mkdir"] as const;

/** The `code` an OP_REPORT gives for an operation that succeeded. */
export const OP_OK = "ok";

/** A log line as both kits see it: the guest's `log` requests, or the entries of a run report. */
export interface LogLine {
  readonly level: LogLevel;
  readonly message: string;
  readonly fields?: Fields;
}

export interface OpReport {
  readonly op: string;
  readonly code: string;
}

/** The OP_REPORT lines among `logs`; lines whose fields are not strings are reported as `?`. */
export function opReports(logs: readonly LogLine[]): OpReport[] {
  return logs
    .filter((l) => l.message === OP_REPORT)
    .map((l) => ({ op: stringField(l.fields, "op"), code: stringField(l.fields, "code") }));
}

export function stringField(fields: Fields | undefined, key: string): string {
  const v = fields?.[key];
  return typeof v === "string" ? v : "?";
}
