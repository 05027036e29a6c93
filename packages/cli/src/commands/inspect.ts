import { ARTIFACT_FORMAT, DEV_PROOF_FORMAT, readArtifact, readDevProof, type Artifact, type DevProof } from "@zkguest/host-sdk";
import { isZkguestError, ZkguestError } from "@zkguest/protocol/core";
import { either as E } from "fp-ts";
import { readArtifactFile } from "../bounded-file.js";
import { EXIT_OK, printJson, printLines, type CliIO, type Command } from "../cli-io.js";
import { parseCommandLine } from "../command-line.js";
import { loadGroth16 } from "../groth16.js";
import type { ProofEnvelope as Groth16Envelope } from "@zkguest/prover-groth16";

export const inspectUsage = `usage: zkguest inspect FILE [--json]
  FILE               a guest artifact (.zkg): its manifest (name, engine, protocol range, program id,
                     SDK, circuit), code and source map sizes; or a proof (a dev proof, or a groth16
                     proof read back with 'zkguest fs cat'): which program it is for, and what it claims
  --json             print it as JSON
Exit 0; a file that is none of these is one error line, exit 1.
`;


/** What a file turned out to be. */
type Inspected =
  | { kind: "artifact"; artifact: Artifact; bytes: number }
  | { kind: "dev-proof"; proof: DevProof }
  | { kind: "groth16-proof"; envelope: Groth16Envelope };

/** `zkguest inspect FILE [--json]`: what a .zkg or a proof file is, without running anything. */
export const inspectCommand: Command = async (argv, io) => {
  const { args, flags } = parseCommandLine("inspect", argv, ["FILE"], { json: { type: "boolean" } });
  const file = args["FILE"]!;
  const bytes = await readArtifactFile(file);
  const inspected = await identify(file, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  if (flags["json"]) printJson(io.stdout, asJson(inspected), 2);
  else print(io, file, inspected);
  return EXIT_OK;
};

/**
 * Tells the kinds apart by their encodings: a dev proof is a MessagePack envelope, a groth16
 * proof a JSON object (read by the groth16 prover's own reader, loaded only then), an artifact
 * MessagePack again.
 */
async function identify(file: string, bytes: Uint8Array): Promise<Inspected> {
  const dev = readDevProof(bytes);
  if (E.isRight(dev)) return { kind: "dev-proof", proof: dev.right };
  if (bytes[0] === 0x7b /* '{': JSON, which no artifact starts with */) {
    const groth16 = await loadGroth16();
    return { kind: "groth16-proof", envelope: withFile(file, () => groth16.decodeProof(bytes)) };
  }
  return { kind: "artifact", artifact: withFile(file, () => readArtifact(bytes), "not a zkguest artifact or proof"), bytes: bytes.length };
}

/** Runs a reader, its typed error then naming the file (and, for a file of no known kind, saying so). */
function withFile<T>(file: string, read: () => T, unknownKind?: string): T {
  try {
    return read();
  } catch (err) {
    if (!isZkguestError(err)) throw err;
    const message = unknownKind !== undefined && err.code === "malformed_frame" ? `${unknownKind} (${err.message})` : err.message;
    throw new ZkguestError(err.code, `${file}: ${message}`);
  }
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");
const version = ([major, minor]: readonly [number, number]): string => `${major}.${minor}`;

function asJson(x: Inspected): unknown {
  switch (x.kind) {
    case "artifact":
      return { kind: x.kind, format: ARTIFACT_FORMAT, manifest: x.artifact.manifest, codeBytes: x.artifact.code.length, ...(x.artifact.circuit === undefined ? {} : { circuitBytes: x.artifact.circuit.length }), ...(x.artifact.sourceMap === undefined ? {} : { sourceMapBytes: x.artifact.sourceMap.length }), bytes: x.bytes };
    case "dev-proof":
      return { kind: x.kind, format: DEV_PROOF_FORMAT, program: x.proof.program, digest: hex(x.proof.digest) };
    case "groth16-proof":
      return { kind: x.kind, ...x.envelope };
  }
}

function print(io: CliIO, file: string, x: Inspected): void {
  const row = (label: string, text: string) => `  ${label.padEnd(10)} ${text}`;
  switch (x.kind) {
    case "artifact": {
      const m = x.artifact.manifest;
      printLines(io.stdout, [
        `${file}: guest artifact (${ARTIFACT_FORMAT}), ${x.bytes.toLocaleString("en-US")} bytes`,
        row("name", m.name),
        row("engine", m.engine),
        row("protocol", `${version(m.protocol.min)} to ${version(m.protocol.max)}`),
        row("id", m.id),
        row("sdk", m.sdk ?? "(not recorded)"),
        row("circuit", m.circuit === undefined ? "none" : `${m.circuit.format}, sha256 ${m.circuit.sha256}, ${x.artifact.circuit!.length.toLocaleString("en-US")} bytes`),
        row("code", `${x.artifact.code.length.toLocaleString("en-US")} bytes`),
        row("source map", x.artifact.sourceMap === undefined ? "none" : `${x.artifact.sourceMap.length.toLocaleString("en-US")} bytes`),
      ]);
      return;
    }
    case "dev-proof":
      printLines(io.stdout, [
        `${file}: development proof (${DEV_PROOF_FORMAT}): it proves nothing`,
        row("program", x.proof.program),
        row("digest", `${hex(x.proof.digest)} (SHA-256 of the program id and the witnesses)`),
      ]);
      return;
    case "groth16-proof": {
      const e = x.envelope;
      printLines(io.stdout, [
        `${file}: groth16 proof (${e.format}), ${e.proof.curve}`,
        row("program", e.program),
        row("circuit", `sha256 ${e.circuit}`),
        row("vkey", `sha256 ${e.vkey} (the verification key it verifies against)`),
        row("ceremony", e.ceremony === "dev" ? "dev (INSECURE: keys from a local development ceremony)" : "ptau (powers of tau)"),
        row("public", JSON.stringify(e.publicSignals)),
      ]);
      return;
    }
  }
}
