import { Host, type RunLimits } from "@zkguest/host-sdk";
import type { Value } from "@zkguest/protocol";
import { EXIT_FAILED, EXIT_OK, UsageError, type Command } from "../cli-io.js";
import { parseCommandLine } from "../command-line.js";
import { KEYS_OPTION, keysDir, loadGroth16, proverName, writeSnarkjsFiles } from "../groth16.js";
import { loadGuest, reportingBuildErrors } from "../guest-artifact.js";
import { readArgOrStdin } from "../read-input.js";
import { failureLine, printRun, readStoredFiles, reportJson } from "../run-output.js";

/**
 * `zkguest run GUEST [--args JSON] [--image IMG] [--json] [--timeout-ms N] [--memory-mb N]
 * [--prover dev|groth16] [--keys DIR] [--out DIR]`: the full lifecycle (witness step, prover,
 * entrypoint) of a guest artifact, or of a controller built on the fly, with the dev prover or
 * (for a program built with a circuit and set up) the groth16 prover. Prints the logs, the
 * report and the files stored; exit 0 when proved, 1 when the run failed (one line on stderr
 * naming the code and the cause). With `--out`, a groth16 run also writes proof.json,
 * public.json and verification_key.json there, in snarkjs's formats.
 */
export const runCommand: Command = async (argv, io) => {
  const { args, flags } = parseCommandLine("run", argv, ["GUEST"], {
    args: { type: "string" },
    image: { type: "string" },
    json: { type: "boolean" },
    "timeout-ms": { type: "string" },
    "memory-mb": { type: "string" },
    prover: { type: "string" },
    out: { type: "string" },
    ...KEYS_OPTION,
  });
  const proverKind = proverName(flags["prover"], "run");
  const out = flags["out"] as string | undefined;
  if (out !== undefined && proverKind !== "groth16") throw new UsageError("run: --out writes snarkjs's files of a groth16 proof: add --prover groth16");
  const runArgs = parseJsonArgs(await readArgOrStdin((flags["args"] as string | undefined) ?? "null", io));
  const limits: Partial<RunLimits> = {
    ...optionalInteger(flags["timeout-ms"], "--timeout-ms", (n) => ({ timeMs: n })),
    ...optionalInteger(flags["memory-mb"], "--memory-mb", (n) => ({ memoryBytes: n * 2 ** 20 })),
  };
  const image = flags["image"] as string | undefined;
  const imageOption = image === undefined ? {} : { image };
  return reportingBuildErrors(io, async () => {
    const { artifact, bytes } = await loadGuest(args["GUEST"]!);
    const groth16 = proverKind === "groth16" ? await loadGroth16() : undefined;
    // Development use: proofs under keys from a development ceremony verify (and say they are insecure).
    const prover = groth16 === undefined ? undefined : new groth16.Groth16Prover({ keysDir: keysDir(flags), devMode: true });
    // One worker is enough for one run; the host's temporary registry goes with close().
    const host = await Host.create({ devMode: true, poolSize: 1, limits, ...(prover === undefined ? {} : { prover }) });
    try {
      const program = await host.deploy(bytes);
      const report = await host.prove(program, runArgs, imageOption);
      const stored = await readStoredFiles(host, report, imageOption);
      if (flags["json"]) io.stdout.write(JSON.stringify(reportJson(artifact.manifest.name, report, stored), null, 2) + "\n");
      else printRun(io, artifact.manifest.name, report, stored);
      if (report.status !== "proved") {
        io.stderr.write(failureLine(report));
        return EXIT_FAILED;
      }
      if (out !== undefined) {
        const files = writeSnarkjsFiles(out, report.proof!, prover!, groth16!);
        if (!flags["json"]) io.stdout.write(`wrote ${files.proof}, ${files.public}, ${files.vkey} (check: snarkjs groth16 verify ${files.vkey} ${files.public} ${files.proof})\n`);
      }
      return EXIT_OK;
    } finally {
      await host.close();
      await prover?.close();
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

function optionalInteger<T>(flag: unknown, name: string, make: (n: number) => T): T | undefined {
  if (flag === undefined) return undefined;
  const n = Number(flag);
  if (!/^\d+$/.test(String(flag)) || !Number.isSafeInteger(n) || n <= 0) throw new UsageError(`run: ${name} takes a positive integer, got '${String(flag)}'`);
  return make(n);
}
