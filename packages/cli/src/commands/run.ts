import { Host, type RunLimits } from "@zkguest/host-sdk";
import type { Value } from "@zkguest/protocol";
import { EXIT_FAILED, EXIT_OK, UsageError, type Command } from "../cli-io.js";
import { integerFlag, parseCommandLine } from "../command-line.js";
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
  const timeMs = integerFlag("run", flags["timeout-ms"], "--timeout-ms", 1);
  const memoryMb = integerFlag("run", flags["memory-mb"], "--memory-mb", 1);
  const limits: Partial<RunLimits> = {
    ...(timeMs === undefined ? {} : { timeMs }),
    ...(memoryMb === undefined ? {} : { memoryBytes: memoryMb * 2 ** 20 }),
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
      if (flags["json"]) io.stdout.write(JSON.stringify(reportJson(artifact.manifest.name, report, stored), null, 2) + "\n");
      else printRun(io, artifact.manifest.name, report, stored);
      if (report.status === "proved") return EXIT_OK;
      io.stderr.write(failureLine(report));
      return EXIT_FAILED;
    } finally {
      await host.close();
    }
  });
};

/** The request's arguments: any JSON value (a protocol Value). */
function parseJsonArgs(text: Buffer): Value {
  try {
    return JSON.parse(text.toString("utf8")) as Value;
  } catch (err) {
    throw new UsageError(`run: --args is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}
