import { DevProver, programRef, readDevProof } from "@zkguest/host-sdk";
import { ZkguestError } from "@zkguest/protocol/core";
import { either as E } from "fp-ts";
import { EXIT_OK, printLines, type Command } from "../cli-io.js";
import { parseCommandLine } from "../command-line.js";
import { KEYS_OPTION, keysDir, loadGroth16 } from "../groth16.js";
import { loadGuest } from "../guest-artifact.js";
import { readFileOrStdin } from "../read-input.js";

/** A proof file is untrusted input: a groth16 proof is about 1 KB, a dev proof less. */
const MAX_PROOF_FILE_BYTES = 1024 * 1024;

export const verifyUsage = `usage: zkguest verify GUEST.zkg PROOF|- [--keys DIR] [--dev]
  PROOF              the proof as the entrypoint received it ('-' reads stdin)
  --keys DIR         where the groth16 keys are (default .zkguest/keys)
  --dev              accept development proofs and keys from a development ceremony
Exit 0 when the proof verifies, 1 when it does not.
`;

/**
 * `zkguest verify GUEST.zkg PROOF|- [--keys DIR] [--dev]`: checks a proof (as the entrypoint
 * received it, e.g. read back with `zkguest fs cat`) against the program's verification key and
 * the proof's public signals. Exit 0 and one line when it verifies; otherwise `zkguest: <code>:
 * <why>` and exit 1. Proofs under keys from a development ceremony, and dev proofs, verify only
 * with `--dev`.
 */
export const verifyCommand: Command = async (argv, io) => {
  const { args, flags } = parseCommandLine("verify", argv, ["GUEST", "PROOF"], { dev: { type: "boolean" }, ...KEYS_OPTION });
  const proof = new Uint8Array(await readFileOrStdin(args["PROOF"]!, io, MAX_PROOF_FILE_BYTES));
  const { artifact } = await loadGuest(args["GUEST"]!);
  const program = programRef(artifact);
  const devMode = flags["dev"] === true;
  if (E.isRight(readDevProof(proof))) {
    const verdict = await new DevProver({ devMode }).verify(proof, program);
    if (E.isLeft(verdict)) throw ZkguestError.from(verdict.left);
    printLines(io.stdout, [`verified (dev mode): a development proof for program ${program.id}; it proves nothing`]);
    return EXIT_OK;
  }
  const groth16 = await loadGroth16();
  const prover = new groth16.Groth16Prover({ keysDir: keysDir(flags), devMode });
  try {
    const verdict = await prover.verify(proof, program);
    if (E.isLeft(verdict)) throw ZkguestError.from(verdict.left);
    const info = prover.describe(proof)!;
    const warning = info.insecure === undefined ? [] : [`WARNING: ${info.insecure}`];
    printLines(io.stdout, [`verified: groth16 proof for program ${program.id}, public signals ${JSON.stringify(info.publicSignals)}`, ...warning]);
    return EXIT_OK;
  } finally {
    await prover.close();
  }
};
