import { programRef } from "@zkguest/host-sdk";
import { statSync } from "node:fs";
import path from "node:path";
import { EXIT_OK, printLines, type Command } from "../cli-io.js";
import { parseCommandLine } from "../command-line.js";
import { KEYS_OPTION, keysDir, loadGroth16 } from "../groth16.js";
import { loadGuest } from "../guest-artifact.js";

export const setupUsage = `usage: zkguest setup GUEST.zkg [--ptau FILE] [--keys DIR]
  --ptau FILE        phase 1 from this powers-of-tau file (without it: an INSECURE local development ceremony)
  --keys DIR         where to keep the keys (default .zkguest/keys)
`;

/**
 * `zkguest setup GUEST.zkg [--ptau FILE] [--keys DIR]`: makes the proving and verification keys
 * of the program's circuit, once per circuit (kept under DIR, default .zkguest/keys). With
 * `--ptau`, phase 1 comes from an operator's powers-of-tau file; without, from a local
 * development ceremony sized to the circuit, which is insecure and says so.
 */
export const setupCommand: Command = async (argv, io) => {
  const { args, flags } = parseCommandLine("setup", argv, ["GUEST"], { ptau: { type: "string" }, ...KEYS_OPTION });
  const groth16 = await loadGroth16();
  const { artifact } = await loadGuest(args["GUEST"]!);
  const prover = new groth16.Groth16Prover({ keysDir: keysDir(flags) });
  try {
    const ptau = flags["ptau"] as string | undefined;
    const { keys, cached, ms } = await prover.setup(programRef(artifact), ptau === undefined ? {} : { ptau });
    const { record, paths } = keys;
    const circuit = prover.circuitOf(programRef(artifact));
    const rel = (p: string) => path.relative(process.cwd(), p) || p;
    const size = (p: string) => `${statSync(p).size.toLocaleString("en-US")} bytes`;
    const ceremony =
      record.ceremony === "dev"
        ? `development, 2^${record.power} (${groth16.DEV_CEREMONY_WARNING})`
        : `powers of tau 2^${record.ptau!.power}, sha256 ${record.ptau!.sha256}`;
    printLines(io.stdout, [
        `keys for circuit ${record.circuit} of '${artifact.manifest.name}': ${cached ? "already made (kept; nothing was done)" : `made in ${(ms / 1000).toFixed(1)} s`}`,
        row("ceremony", ceremony),
        row("circuit", `${record.constraints} constraints, ${circuit.publicCount} public signals (${[...circuit.outputs.map(groth16.describeSignal), ...circuit.inputs.filter((s) => s.public).map(groth16.describeSignal)].join(", ") || "none"})`),
        row("proving", `${rel(paths.zkey)} (${size(paths.zkey)})`),
        row("verifying", `${rel(paths.vkey)} (${size(paths.vkey)}, sha256 ${record.vkeySha256})`),
    ]);
    return EXIT_OK;
  } finally {
    await prover.close();
  }
};

function row(label: string, text: string): string {
  return `  ${label.padEnd(10)} ${text}`;
}
