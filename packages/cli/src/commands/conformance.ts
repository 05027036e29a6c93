import { Host, QuickJsEngine, WasmEngine, type LoadedGuest } from "@zkguest/host-sdk";
import { allPassed, formatTable, hostKitResults, runGuestKit, runOnHost, tally, type CheckResult } from "@zkguest/host-sdk/conformance";
import { ZkguestError } from "@zkguest/protocol";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { EXIT_FAILED, EXIT_OK, printJson, printLines, UsageError, type CliIO, type Command } from "../cli-io.js";
import { parseCommandLine } from "../command-line.js";
import { loadGuest, reportingBuildErrors } from "../guest-artifact.js";
import { readJsonArgs } from "../json-args.js";

/** The reference guest's sources, when this CLI runs from a zkguest checkout (dist/src/commands/ -> repo). */
const REFERENCE_GUEST_DIR = fileURLToPath(new URL("../../../../../examples/conformance-guest/", import.meta.url));

export const conformanceUsage = `usage: zkguest conformance guest GUEST [--args JSON|-|@FILE] [--json]
       zkguest conformance host [--guest WASM] [--json]
  guest              the guest kit, on a .zkg, a .wasm or a controller built on the fly
  host               the host kit: the reference guest run through this host
Exit 0 when no check failed, 1 when one did.
`;

/**
 * `zkguest conformance guest GUEST [--args JSON|-|@FILE] [--json]`: the guest kit, on a guest artifact
 * (.zkg), a wasm32-wasi module (.wasm) or a controller built on the fly.
 * `zkguest conformance host [--guest WASM] [--json]`: the host kit, the reference guest run
 * through this host-sdk's Host. Both print a table of checks; exit 0 when none failed, 1 when
 * one did (README "Conformance").
 */
export const conformanceCommand: Command = async (argv, io) => {
  const [kit, ...rest] = argv;
  if (kit === "guest") return guestKit(rest, io);
  if (kit === "host") return hostKit(rest, io);
  throw new UsageError(kit === undefined ? "conformance takes 'guest GUEST' or 'host'" : `unknown conformance kit '${kit}' (it takes 'guest GUEST' or 'host')`);
};

async function guestKit(argv: string[], io: CliIO): Promise<number> {
  const { args, flags } = parseCommandLine("conformance guest", argv, ["GUEST"], { args: { type: "string" }, json: { type: "boolean" } });
  const kitArgs = await readJsonArgs("conformance guest", flags["args"] as string | undefined, io);
  return reportingBuildErrors(io, async () => {
    const { artifact } = await loadGuest(args["GUEST"]!);
    const guest: LoadedGuest = artifact.manifest.engine === "js" ? (await QuickJsEngine.create()).load(artifact.code) : new WasmEngine().load(artifact.code);
    try {
      const results = runGuestKit(guest, { args: kitArgs });
      return print(io, `guest conformance: '${artifact.manifest.name}' (${artifact.manifest.engine} guest, program ${artifact.manifest.id.slice(0, 12)})`, results, Boolean(flags["json"]));
    } finally {
      guest.dispose();
    }
  });
}

async function hostKit(argv: string[], io: CliIO): Promise<number> {
  const { flags } = parseCommandLine("conformance host", argv, [], { guest: { type: "string" }, json: { type: "boolean" } });
  const file = flags["guest"] as string | undefined;
  const wasm = file === undefined ? buildReferenceGuest() : readFileSync(file);
  // One worker is enough; the host's temporary registry and disks go with close().
  const host = await Host.create({ devMode: true, poolSize: 1 });
  try {
    const results = hostKitResults(await runOnHost(host, wasm));
    return print(io, "host conformance: @zkguest/host-sdk Host, reference guest examples/conformance-guest", results, Boolean(flags["json"]));
  } finally {
    await host.close();
  }
}

function print(io: CliIO, title: string, results: readonly CheckResult[], json: boolean): number {
  const passed = allPassed(results);
  if (json) printJson(io.stdout, { title, passed, counts: tally(results), results }, 2);
  else printLines(io.stdout, [title, "", ...formatTable(results).split("\n")]);
  return passed ? EXIT_OK : EXIT_FAILED;
}

/** Builds examples/conformance-guest with its script (Debian's clang), into a temporary directory. */
function buildReferenceGuest(): Uint8Array {
  const script = path.join(REFERENCE_GUEST_DIR, "build.sh");
  if (!existsSync(script)) {
    throw new UsageError("conformance host: the reference guest's sources are not here (not a zkguest checkout); pass --guest WASM, built by examples/conformance-guest/build.sh");
  }
  const dir = mkdtempSync(path.join(tmpdir(), "zkguest-conformance-guest-"));
  try {
    const out = path.join(dir, "conformance.wasm");
    try {
      execFileSync("sh", [script, out], { stdio: "pipe" });
    } catch (err) {
      const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
      throw new ZkguestError("internal", `building the reference guest failed (it needs clang, lld, wasi-libc and libclang-rt-14-dev-wasm32): ${stderr || String(err)}`);
    }
    return readFileSync(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
