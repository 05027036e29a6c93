import { spawn, spawnSync, type ChildProcess } from "node:child_process";
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

/** A `zkguest serve` or `zkguest worker` process that said it is ready. */
export interface Started {
  readonly child: ChildProcess;
  /** The URL `serve` printed (`listening on URL`). */
  readonly url?: string;
  /** Everything it wrote on stderr so far. */
  stderr(): string;
}

/**
 * Starts `zkguest ARGS` in the background and resolves once it prints `listening on URL` (serve)
 * or `worker ready` (worker), within 30 s (else it is killed and the promise rejects).
 */
export function startZkguest(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Started> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stderr!.on("data", (c: Buffer) => (err += c.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`zkguest ${args[0]} was not ready in 30 s: ${err}`));
    }, 30_000);
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      const m = /^(?:listening on (http:\/\/\S+)|worker ready)\n/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, ...(m[1] === undefined ? {} : { url: m[1] }), stderr: () => err });
      }
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`zkguest ${args[0]} exited (${code ?? signal}) before it was ready: ${err}`));
    });
  });
}

/** Waits for a child to exit (SIGKILL after `ms`); resolves with its exit code, or the signal that ended it. */
export function exited(child: ChildProcess, ms = 20_000): Promise<number | string> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode ?? child.signalCode!);
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), ms);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      resolve(code ?? signal!);
    });
  });
}
