import { writeFileSync } from "node:fs";
import path from "node:path";
import { EXIT_OK, printLines, UsageError, type Command } from "../cli-io.js";
import { parseCommandLine } from "../command-line.js";
import { buildArtifact, nameOf, reportingBuildErrors } from "../guest-artifact.js";

export const buildUsage = `usage: zkguest build GUEST [--circuit FILE.circom [-l DIR]...] [-o NAME.zkg]
  GUEST              a controller (.ts/.js), bundled with the guest SDK, or a wasm32-wasi module (.wasm)
  --circuit FILE     compile this circom circuit (circom2) into the artifact, for the groth16 prover
  -l, --lib DIR      an include directory for the circuit (repeatable)
  -o, --output FILE  where to write the artifact (default NAME.zkg; the artifact's name is NAME)
`;

/**
 * `zkguest build GUEST [--circuit FILE.circom [-l DIR]...] [-o NAME.zkg]`: bundles a controller
 * with the guest SDK (or wraps a wasm32-wasi module) into a guest artifact, with its circuit
 * compiled by circom2 when `--circuit` names one (`-l` adds include directories). The
 * artifact's name is NAME, else the file's name.
 */
export const buildCommand: Command = async (argv, io) => {
  const { args, flags } = parseCommandLine("build", argv, ["GUEST"], {
    output: { type: "string", short: "o" },
    circuit: { type: "string" },
    lib: { type: "string", short: "l", multiple: true },
  });
  const input = args["GUEST"]!;
  const output = (flags["output"] as string | undefined) ?? `${nameOf(input)}.zkg`;
  const circuit = flags["circuit"] as string | undefined;
  const libraries = (flags["lib"] as unknown as string[] | undefined) ?? [];
  if (circuit === undefined && libraries.length > 0) throw new UsageError("build: -l/--lib adds include directories for --circuit, which is missing");
  return reportingBuildErrors(io, async () => {
    const { artifact, bytes } = await buildArtifact(input, nameOf(output), { ...(circuit === undefined ? {} : { circuit }), libraries });
    writeFileSync(output, bytes);
    const m = artifact.manifest;
    const circuitNote = m.circuit === undefined ? "" : `, circuit ${path.basename(circuit!)} (sha256 ${m.circuit.sha256})`;
    printLines(io.stdout, [`${path.relative(process.cwd(), path.resolve(output)) || output}: ${m.engine} guest '${m.name}', ${bytes.length.toLocaleString("en-US")} bytes${circuitNote}, program id ${m.id}`]);
    return EXIT_OK;
  });
};
