import { ZkguestError } from "@zkguest/protocol/core";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { UsageError } from "./cli-io.js";

/**
 * The Groth16 prover, loaded only by the commands and options that use it. It is GPL-3.0 (it
 * runs snarkjs and circom2) and this CLI is Apache-2.0, so the CLI does not depend on it: it is
 * an optional peer dependency, installed by those who want real proofs
 * (`npm install @zkguest/prover-groth16`), and a CLI without it runs everything else.
 */
export type Groth16Module = typeof import("@zkguest/prover-groth16");
type Groth16Prover = InstanceType<Groth16Module["Groth16Prover"]>;

const PACKAGE = "@zkguest/prover-groth16";

export async function loadGroth16(): Promise<Groth16Module> {
  try {
    return await import(PACKAGE);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === "ERR_MODULE_NOT_FOUND" && String((e as Error).message).includes(PACKAGE)) {
      throw new ZkguestError("not_found", `the groth16 prover is not installed: npm install ${PACKAGE} (GPL-3.0; see the zkguest README)`);
    }
    throw e;
  }
}

/** Where keys live unless `--keys` says otherwise: `.zkguest/keys` in the working directory. */
export const DEFAULT_KEYS_DIR = path.join(".zkguest", "keys");

/** The `--keys DIR` option, shared by the commands that read or make keys. */
export const KEYS_OPTION = { keys: { type: "string" } } as const;

export function keysDir(flags: Record<string, unknown>): string {
  return (flags["keys"] as string | undefined) ?? DEFAULT_KEYS_DIR;
}

/** The provers `zkguest run --prover` knows. */
export const PROVERS = ["dev", "groth16"] as const;
export type ProverName = (typeof PROVERS)[number];

export function proverName(flag: unknown, command: string): ProverName {
  const name = (flag as string | undefined) ?? "dev";
  if (!(PROVERS as readonly string[]).includes(name)) throw new UsageError(`${command}: --prover is one of ${PROVERS.join(", ")}, got '${name}'`);
  return name as ProverName;
}

/**
 * Writes a groth16 proof's proof.json, public.json and verification_key.json into `dir`, in
 * snarkjs's formats: `snarkjs groth16 verify DIR/verification_key.json DIR/public.json
 * DIR/proof.json` checks them without zkguest. Returns the three paths.
 */
export function writeSnarkjsFiles(dir: string, proof: Uint8Array, prover: Groth16Prover, groth16: Groth16Module): { proof: string; public: string; vkey: string } {
  const envelope = groth16.decodeProof(proof);
  const keys = prover.keys.load(envelope.circuit);
  if (keys === undefined) throw new ZkguestError("not_found", `no keys for circuit ${envelope.circuit} in ${prover.keys.dir}`);
  mkdirSync(dir, { recursive: true });
  const files = { proof: path.join(dir, "proof.json"), public: path.join(dir, "public.json"), vkey: path.join(dir, "verification_key.json") };
  writeFileSync(files.proof, JSON.stringify(envelope.proof, null, 1) + "\n");
  writeFileSync(files.public, JSON.stringify(envelope.publicSignals, null, 1) + "\n");
  copyFileSync(keys.paths.vkey, files.vkey);
  return files;
}
