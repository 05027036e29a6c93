import { programRef } from "@zkguest/host-sdk";
import { writeFileSync } from "node:fs";
import { EXIT_OK, printLines, type Command } from "../cli-io.js";
import { parseCommandLine } from "../command-line.js";
import { KEYS_OPTION, keysDir, loadGroth16 } from "../groth16.js";
import { loadGuest } from "../guest-artifact.js";

export const exportVerifierUsage = `usage: zkguest export-verifier GUEST.zkg [-o Verifier.sol] [--keys DIR]
  -o, --output FILE  where to write the Solidity contract (default Verifier.sol)
  --keys DIR         where the groth16 keys are (default .zkguest/keys)
`;

/**
 * `zkguest export-verifier GUEST.zkg [-o Verifier.sol] [--keys DIR]`: the Solidity contract
 * that verifies the program's proofs on-chain (snarkjs's Groth16 verifier for its key):
 * `verifyProof(uint[2] a, uint[2][2] b, uint[2] c, uint[N] publicSignals) returns (bool)`.
 */
export const exportVerifierCommand: Command = async (argv, io) => {
  const { args, flags } = parseCommandLine("export-verifier", argv, ["GUEST"], { output: { type: "string", short: "o" }, ...KEYS_OPTION });
  const output = (flags["output"] as string | undefined) ?? "Verifier.sol";
  const groth16 = await loadGroth16();
  const { artifact } = await loadGuest(args["GUEST"]!);
  const prover = new groth16.Groth16Prover({ keysDir: keysDir(flags) });
  try {
    const program = programRef(artifact);
    const solidity = await prover.exportSolidityVerifier(program);
    writeFileSync(output, solidity);
    const keys = prover.keysOf(program)!;
    const insecure = keys.record.ceremony === "dev" ? [`WARNING: ${groth16.DEV_CEREMONY_WARNING}`] : [];
    printLines(io.stdout, [`${output}: Solidity verifier for circuit ${keys.record.circuit} (verification key sha256 ${keys.record.vkeySha256})`, ...insecure]);
    return EXIT_OK;
  } finally {
    await prover.close();
  }
};
