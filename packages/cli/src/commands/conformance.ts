import { Host, QuickJsEngine, WasmEngine, type LoadedGuest } from "@zkguest/host-sdk";
import { allPassed, formatTable, hostKitResults, runGuestKit, runOnHost, tally, type CheckResult } from "@zkguest/host-sdk/conformance";
import { ZkguestError } from "@zkguest/protocol";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { EXIT_FAILED, EXIT_OK, printJson, printLines, UsageError, type CliIO, type Command } from "../cli-io.js";
import { parseCommandLine } from "../command-line.js";
import { loadGuest, reportingBuildErrors } from "../guest-artifact.js";
import { readJsonArgs } from "../json-args.js";

/** The reference guest's wasm in this package (dist/reference-guest, from dist/src/commands/). */
const REFERENCE_GUEST = fileURLToPath(new URL("../../reference-guest/conformance.wasm", import.meta.url));

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
  const wasm = file === undefined ? referenceGuest() : readFileSync(file);
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

/**
 * The reference guest (examples/conformance-guest, in C), as this package ships it: built to
 * wasm by the build (scripts/package-assets.mjs, with Debian's clang), so running the kit needs
 * no compiler.
 */
function referenceGuest(): Uint8Array {
  try {
    return readFileSync(REFERENCE_GUEST);
  } catch (err) {
    const why = (err as { code?: unknown }).code === "ENOENT" ? "is missing" : `cannot be read: ${err instanceof Error ? err.message : String(err)}`;
    throw new ZkguestError("not_found", `conformance host: the reference guest ${REFERENCE_GUEST} ${why} (this installation of zkguest is incomplete: in a checkout, npm run build makes it with clang); pass --guest WASM`);
  }
}
