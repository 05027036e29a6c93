import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** This package's directory (packages/cli in a checkout), from dist/src/cli-location.js. */
export const CLI_DIR = fileURLToPath(new URL("../../", import.meta.url));

/** The executable that runs this CLI. */
export const CLI_BIN = path.join(CLI_DIR, "bin/zkguest.js");

/** Two levels above this package: the repository root when the CLI runs from a checkout of zkguest. */
export const REPO_DIR = path.resolve(CLI_DIR, "../..");

/** This CLI's version: its package.json's (the one source; `zkguest --version` and `zkguest init` use it). */
export function cliVersion(): string {
  return (JSON.parse(readFileSync(path.join(CLI_DIR, "package.json"), "utf8")) as { version: string }).version;
}
