import type { Host, LogRecord, RunReport } from "@zkguest/host-sdk";
import { isZkguestError } from "@zkguest/protocol/core";
import { printLines, type CliIO } from "./cli-io.js";
import { showBytes, textOf } from "./shown-bytes.js";

/** A file the run wrote: its path and size as the report gives them, and what it holds once the run is over (none when it was removed since). */
export interface StoredFile {
  readonly path: string;
  readonly bytes: number;
  readonly data?: Uint8Array;
}

/** The report's files, each with its content read back from the disk. */
export async function readStoredFiles(host: Host, report: RunReport, options: { image?: string }): Promise<StoredFile[]> {
  const out: StoredFile[] = [];
  for (const file of report.files) {
    try {
      out.push({ ...file, data: await host.readFile(report.program, file.path, options) });
    } catch (err) {
      if (!(isZkguestError(err) && err.code === "not_found")) throw err;
      out.push(file);
    }
  }
  return out;
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");

/** JSON.stringify replacer: bytes as lower-case hex strings. */
function bytesAsHex(_key: string, value: unknown): unknown {
  return value instanceof Uint8Array ? hex(value) : value;
}

/**
 * The report for `--json` (docs/guest-authors.md, "Run"): every byte string as hex, and the
 * files with what they hold, as `text` or `hex` (showBytes).
 */
export function reportJson(name: string, report: RunReport, files: readonly StoredFile[]): unknown {
  const shown = files.map(({ path, bytes, data }) => ({ path, bytes, ...(data === undefined ? {} : showBytes(data)) }));
  return JSON.parse(JSON.stringify({ name, ...report, files: shown }, bytesAsHex));
}

/** How much of a file the text report shows: bytes of a binary one (as hex), characters of a text one. */
const PREVIEW_BYTES = 32;
const PREVIEW_CHARACTERS = 64;
const MiB = 2 ** 20;

/** The human form: the logs of both phases, the report, then the files written and how they begin. */
export function printRun(io: CliIO, name: string, report: RunReport, files: readonly StoredFile[]): void {
  const out: string[] = [];
  out.push("logs:");
  if (report.logs.length === 0) out.push("  (none)");
  for (const record of report.logs) out.push(...logLines(record));
  const r = report.resources;
  out.push(
    "report:",
    row("status", report.error ? `${report.status} (${report.error.code}${report.error.limit ? `, limit: ${report.error.limit}` : ""}): ${report.error.message}` : report.status),
    row("program", `${name} ${report.program}`),
    row("witnesses", `${report.witnesses.length}, sha256 ${report.witnessesHash}`),
    row("proof", report.proof ? proofSummary(report) : "none"),
    ...(report.proofInfo?.publicSignals === undefined ? [] : [row("public", JSON.stringify(report.proofInfo.publicSignals))]),
    row("time", `witness ${ms(r.witnessMs)}, prove ${ms(r.proveMs)}, entrypoint ${ms(r.entrypointMs)}`),
    row("resources", `memory ${(r.peakMemoryBytes / MiB).toFixed(2)} MiB (largest sample), ${r.hostCalls} host calls, ${r.bytesStored} bytes written`),
    "files:",
  );
  if (files.length === 0) out.push("  (none)");
  for (const f of files) out.push(`  ${f.path}  ${f.bytes} bytes  ${f.data === undefined ? "(removed since)" : preview(f.data)}`);
  printLines(io.stdout, out);
}

/** `text: {"numbers":...` or `hex: 84a36465...`: how a file begins, and which of the two it is (showBytes's rule). */
function preview(data: Uint8Array): string {
  const text = textOf(data);
  if (text === undefined) return `hex: ${hex(data.subarray(0, PREVIEW_BYTES))}${data.length > PREVIEW_BYTES ? "..." : ""}`;
  // Characters, not UTF-16 units: an emoji is never cut in half.
  const shown = Array.from(text.slice(0, 2 * PREVIEW_CHARACTERS)).slice(0, PREVIEW_CHARACTERS).join("");
  return `text: ${shown}${shown.length < text.length ? "..." : ""}`;
}

/** The one stderr line of a run that did not prove: `zkguest: <code>: <cause>` (printed with printLines). */
export function failureLine(report: RunReport): string {
  const error = report.error ?? { code: "internal", message: `the run ended with status ${report.status} and no error` };
  return `zkguest: ${error.code}: ${error.message}`;
}

/** `805 bytes, groth16` and, for a proof that must not be trusted, why (`dev prover: not a real proof`). */
function proofSummary(report: RunReport): string {
  const info = report.proofInfo;
  const prover = info === undefined ? "" : `, ${info.prover}`;
  return `${report.proof!.length} bytes${prover}${info?.insecure === undefined ? "" : ` (${info.insecure})`}`;
}

function row(label: string, text: string): string {
  return `  ${label.padEnd(10)} ${text}`;
}

function ms(x: number): string {
  return `${x.toFixed(1)} ms`;
}

/** `  [witness] info  message {"fields":...}`, host lines marked as such, then the stack indented. */
function logLines(record: LogRecord): string[] {
  const who = record.source === "host" ? "host " : "";
  const fields = record.fields === undefined ? "" : ` ${JSON.stringify(record.fields, bytesAsHex)}`;
  const head = `  ${`[${record.phase}]`.padEnd(12)} ${who}${record.level.padEnd(5)} ${record.message}${fields}`;
  const stack = (record.stack ?? "").split("\n").filter((l) => l.trim() !== "").map((l) => `      ${l.trim()}`);
  return [head, ...stack];
}
