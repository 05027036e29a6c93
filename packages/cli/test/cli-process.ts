import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** Runs the real `zkguest` executable in a child process, as a user would. */
export const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../bin/zkguest.js");
/** The monorepo's root (tests reach examples/ and the workspace packages through it). */
export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..");

export interface CliRun {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function zkguest(args: readonly string[], opts: { cwd?: string; input?: string } = {}): CliRun {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? REPO,
    input: opts.input ?? "",
    encoding: "utf8",
    maxBuffer: 64 * 2 ** 20,
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A fresh directory under the OS's temp dir; remove it with `fs.rmSync(dir, {recursive: true})`. */
export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `zkguest-${prefix}-`));
}

/** Writes `files` (relative path -> text) under `dir`, creating parents. */
export function writeFiles(dir: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
}
