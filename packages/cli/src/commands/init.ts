import { ZkguestError } from "@zkguest/protocol/core";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { EXIT_OK, printLines, shellWord, UsageError, type Command } from "../cli-io.js";
import { cliVersion, REPO_DIR } from "../cli-location.js";
import { parseCommandLine } from "../command-line.js";
import { scaffoldFiles, type ZkguestDependencies } from "../scaffold.js";

export const initUsage = `usage: zkguest init DIR
  scaffold a guest project in DIR (new or empty): a controller, a mocha test and build scripts
`;

/** `zkguest init DIR`: a new guest project that builds, tests and runs as it is. */
export const initCommand: Command = async (argv, io) => {
  const { args } = parseCommandLine("init", argv, ["DIR"]);
  const dir = path.resolve(args["DIR"]!);
  const name = packageName(path.basename(dir));
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new ZkguestError("already_exists", `${args["DIR"]}: directory exists and is not empty`);
  const files = scaffoldFiles(name, zkguestDependencies(dir));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  }
  const shown = path.relative(process.cwd(), dir) || ".";
  printLines(io.stdout, [
    `created ${shown}/: ${Object.keys(files).join(", ")}`,
    "next:",
    `  cd ${shellWord(shown)} && npm install`,
    `  npm run build    # zkguest build controller.ts -o ${name}.zkg`,
    "  npm test         # runs the controller against an in-process host",
    "  npm start        # builds and runs it with the dev prover",
  ]);
  return EXIT_OK;
};

/** An npm package name (and artifact name) from a directory name. */
function packageName(base: string): string {
  const name = base.toLowerCase().replace(/[^a-z0-9._-]+/g, "-").replace(/^[._-]+/, "");
  if (!name) throw new UsageError(`init: cannot make a package name from '${base}'`);
  return name;
}

/**
 * Run from a checkout of the zkguest repository, the project depends on its packages by `file:`
 * paths (they are not published from there); otherwise on the very versions installed with this
 * CLI (the SDKs it resolves, and itself), so the project builds with what made it.
 */
function zkguestDependencies(projectDir: string): ZkguestDependencies {
  const local = (pkg: string) => `file:${path.relative(projectDir, path.join(REPO_DIR, "packages", pkg)).split(path.sep).join("/")}`;
  if (isZkguestCheckout()) return { guestSdk: local("guest-sdk"), hostSdk: local("host-sdk"), cli: local("cli") };
  return { guestSdk: installedVersion("@zkguest/guest-sdk"), hostSdk: installedVersion("@zkguest/host-sdk"), cli: cliVersion() };
}

/** The version of `pkg` as this CLI resolves it: from the package.json above its entry point (its exports do not expose package.json). */
function installedVersion(pkg: string): string {
  let dir = path.dirname(fileURLToPath(import.meta.resolve(pkg)));
  for (;;) {
    const manifest = path.join(dir, "package.json");
    if (existsSync(manifest)) {
      const { name, version } = JSON.parse(readFileSync(manifest, "utf8")) as { name?: string; version?: string };
      if (name === pkg && typeof version === "string") return version;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new ZkguestError("not_found", `init: cannot find the version of ${pkg}: no package.json names it above ${fileURLToPath(import.meta.resolve(pkg))}`);
    dir = parent;
  }
}

function isZkguestCheckout(): boolean {
  try {
    const root = JSON.parse(readFileSync(path.join(REPO_DIR, "package.json"), "utf8")) as { workspaces?: string[] };
    return (root.workspaces ?? []).includes("packages/guest-sdk");
  } catch {
    return false;
  }
}
