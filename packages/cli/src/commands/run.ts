import { Host, type RunLimits } from "@zkguest/host-sdk";
import { unsafeIntegerLiteral, ZkguestError, type Value } from "@zkguest/protocol";
import { EXIT_FAILED, EXIT_OK, printJson, printLines, UsageError, type Command } from "../cli-io.js";
import { parseCommandLine } from "../command-line.js";
import { loadGuest, reportingBuildErrors } from "../guest-artifact.js";
import { readArgOrStdin } from "../read-input.js";
import { failureLine, printRun, readStoredFiles, reportJson } from "../run-output.js";

/**
 * `zkguest run GUEST [--args JSON] [--image IMG] [--json] [--timeout-ms N] [--memory-mb N]`:
 * the full lifecycle (witness step, dev prover, entrypoint) of a guest artifact, or of a
 * controller built on the fly. Prints the logs, the report and the files stored; exit 0 when
 * proved, 1 when the run failed (one line on stderr naming the code and the cause).
 */
export const runCommand: Command = async (argv, io) => {
  const { args, flags } = parseCommandLine("run", argv, ["GUEST"], {
    args: { type: "string" },
    image: { type: "string" },
    json: { type: "boolean" },
    "timeout-ms": { type: "string" },
    "memory-mb": { type: "string" },
  });
  const runArgs = parseJsonArgs(await readArgOrStdin((flags["args"] as string | undefined) ?? "null", io));
  const limits: Partial<RunLimits> = {
    ...optionalInteger(flags["timeout-ms"], "--timeout-ms", (n) => ({ timeMs: n })),
    ...optionalInteger(flags["memory-mb"], "--memory-mb", (n) => ({ memoryBytes: n * 2 ** 20 })),
  };
  const image = flags["image"] as string | undefined;
  const imageOption = image === undefined ? {} : { image };
  return reportingBuildErrors(io, async () => {
    const { artifact, bytes } = await loadGuest(args["GUEST"]!);
    // One worker is enough for one run; the host's temporary registry goes with close().
    const host = await Host.create({ devMode: true, poolSize: 1, limits });
    try {
      const program = await host.deploy(bytes);
      const report = await host.prove(program, runArgs, imageOption);
      const stored = await readStoredFiles(host, report, imageOption);
      if (flags["json"]) printJson(io.stdout, reportJson(artifact.manifest.name, report, stored), 2);
      else printRun(io, artifact.manifest.name, report, stored);
      if (report.status === "proved") return EXIT_OK;
      printLines(io.stderr, [failureLine(report)]);
      return EXIT_FAILED;
    } finally {
      await host.close();
    }
  });
};

/** The request's arguments: any JSON value (a protocol Value). */
function parseJsonArgs(text: Buffer): Value {
  const big = unsafeIntegerLiteral(text.toString("utf8"));
  if (big !== undefined) throw new ZkguestError("malformed_frame", `run: --args holds the integer ${big}, beyond 2^53-1, which JSON numbers cannot carry exactly: pass it as a decimal string (SPEC.md §4.1)`);
  try {
    return JSON.parse(text.toString("utf8")) as Value;
  } catch (err) {
    throw new UsageError(`run: --args is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function optionalInteger<T>(flag: unknown, name: string, make: (n: number) => T): T | undefined {
  if (flag === undefined) return undefined;
  const n = Number(flag);
  if (!/^\d+$/.test(String(flag)) || !Number.isSafeInteger(n) || n <= 0) throw new UsageError(`run: ${name} takes a positive integer, got '${String(flag)}'`);
  return make(n);
}
