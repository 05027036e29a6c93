import { DEFAULT_RUN_LIMITS, Host, LimitRangeError, resolveLimits, type EngineKind, type RunLimits } from "@zkguest/host-sdk";
import { EXIT_FAILED, EXIT_OK, printJson, printLines, UsageError, type Command } from "../cli-io.js";
import { integerFlag, parseCommandLine } from "../command-line.js";
import { KEYS_OPTION, keysDir, loadGroth16, proverName, writeSnarkjsFiles } from "../groth16.js";
import { loadGuest, reportingBuildErrors } from "../guest-artifact.js";
import { readJsonArgs } from "../json-args.js";
import { failureLine, printRun, readStoredFiles, reportJson } from "../run-output.js";

export const runUsage = `usage: zkguest run GUEST [options]
  GUEST              a guest artifact (.zkg), or a controller (.ts/.js) or .wasm built on the fly
  --args JSON|-|@FILE  the request's arguments as JSON: inline, '-' for stdin, @FILE from a file (default null)
  --image IMG        the program's FAT-16 disk image (made when missing)
  --execute          the dry run: the witness step only, no proof (status 'executed')
  --prover NAME      dev (default) or groth16 (needs 'zkguest setup' first)
  --keys DIR         where the groth16 keys are (default .zkguest/keys)
  --out DIR          with --prover groth16: write proof.json, public.json, verification_key.json (snarkjs)
  --timeout-ms N     the run's time limit
  --memory-mb N      the guest's memory limit
  --json             print the report as JSON
Exit 0 when proved (or executed, with --execute), 1 when the run failed.
`;

/**
 * `zkguest run GUEST [options]` (runUsage): the full lifecycle (witness step, prover,
 * entrypoint), or with --execute the witness step alone (Host.execute), of a guest artifact,
 * or of a controller built on the fly, with the dev prover or
 * (for a program built with a circuit and set up) the groth16 prover. Prints the logs, the
 * report and the files stored; exit 0 when proved (executed), 1 when the run failed (one line on stderr
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
    execute: { type: "boolean" },
    ...KEYS_OPTION,
  });
  const proverKind = proverName(flags["prover"], "run");
  const out = flags["out"] as string | undefined;
  if (out !== undefined && proverKind !== "groth16") throw new UsageError("run: --out writes snarkjs's files of a groth16 proof: add --prover groth16");
  const execute = flags["execute"] === true;
  if (execute && (flags["prover"] !== undefined || flags["keys"] !== undefined)) throw new UsageError("run: --execute is the witness step alone, which no prover takes part in: drop --prover and --keys");
  const runArgs = await readJsonArgs("run", flags["args"] as string | undefined, io);
  const timeMs = integerFlag("run", flags["timeout-ms"], "--timeout-ms", 1);
  const memoryMb = integerFlag("run", flags["memory-mb"], "--memory-mb", 1);
  const limits: Partial<RunLimits> = {
    ...(timeMs === undefined ? {} : { timeMs: timeMs * LIMIT_FLAGS.timeMs.unit }),
    ...(memoryMb === undefined ? {} : { memoryBytes: memoryMb * LIMIT_FLAGS.memoryBytes.unit }),
  };
  const image = flags["image"] as string | undefined;
  const imageOption = image === undefined ? {} : { image };
  return reportingBuildErrors(io, async () => {
    const { artifact, bytes } = await loadGuest(args["GUEST"]!);
    checkLimits(limits, artifact.manifest.engine);
    const groth16 = proverKind === "groth16" ? await loadGroth16() : undefined;
    // Development use: proofs under keys from a development ceremony verify (and say they are insecure).
    const prover = groth16 === undefined ? undefined : new groth16.Groth16Prover({ keysDir: keysDir(flags), devMode: true });
    // One worker is enough for one run; the host's temporary registry goes with close().
    const host = await Host.create({ devMode: true, poolSize: 1, limits, ...(prover === undefined ? {} : { prover }) });
    try {
      const program = await host.deploy(bytes);
      const report = execute ? await host.execute(program, runArgs, imageOption) : await host.prove(program, runArgs, imageOption);
      const stored = await readStoredFiles(host, report, imageOption);
      if (flags["json"]) printJson(io.stdout, reportJson(artifact.manifest.name, report, stored), 2);
      else printRun(io, artifact.manifest.name, report, stored);
      if (report.status !== (execute ? "executed" : "proved")) {
        printLines(io.stderr, [failureLine(report)]);
        return EXIT_FAILED;
      }
      if (out !== undefined) {
        const files = writeSnarkjsFiles(out, report.proof!, prover!, groth16!);
        if (!flags["json"]) printLines(io.stdout, [`wrote ${files.proof}, ${files.public}, ${files.vkey} (check: snarkjs groth16 verify ${files.vkey} ${files.public} ${files.proof})`]);
      }
      return EXIT_OK;
    } finally {
      await host.close();
      await prover?.close();
    }
  });
};

/** The flags that set limits, and their units. */
const LIMIT_FLAGS = {
  timeMs: { flag: "--timeout-ms", unit: 1 },
  memoryBytes: { flag: "--memory-mb", unit: 2 ** 20 },
} as const;

/** The host's own check of the limits (for guests of `engine`), a flag out of range being a usage error that gives its range. */
function checkLimits(limits: Partial<RunLimits>, engine: EngineKind): void {
  try {
    resolveLimits(DEFAULT_RUN_LIMITS, limits, engine);
  } catch (err) {
    if (!(err instanceof LimitRangeError) || !(err.limit in LIMIT_FLAGS)) throw err;
    const { flag, unit } = LIMIT_FLAGS[err.limit as keyof typeof LIMIT_FLAGS];
    const { min, max, why } = err.range;
    throw new UsageError(`run: ${flag} takes ${Math.ceil(min / unit)} to ${Math.floor(max / unit)} for a ${engine} guest (${why}), got ${Number(err.value) / unit}`);
  }
}
