import { writeFileSync } from "node:fs";
import path from "node:path";
import { EXIT_OK, printLines, UsageError, type Command } from "../cli-io.js";
import { parseCommandLine } from "../command-line.js";
import { buildArtifact, nameOf, reportingBuildErrors } from "../guest-artifact.js";

export const buildUsage = `usage: zkguest build GUEST [--circuit FILE.circom [-l DIR]...] [-o NAME.zkg] [--no-minify] [--no-source-map]
  GUEST              a controller (.ts/.js), bundled with the guest SDK, or a wasm32-wasi module (.wasm)
  --circuit FILE     compile this circom circuit (circom2) into the artifact, for the groth16 prover
  -l, --lib DIR      an include directory for the circuit (repeatable)
  -o, --output FILE  where to write the artifact (default NAME.zkg; the artifact's name is NAME)
  --no-minify        do not minify, and write the bundle beside the artifact too (NAME.bundle.js) to read
                     it: the artifact's code, whose lines are those of guest.js in stacks (larger, slower to start)
  --no-source-map    leave the source map out: stacks then name guest.js, and the program id covers the code alone
`;

/**
 * `zkguest build GUEST [--circuit FILE.circom [-l DIR]...] [-o NAME.zkg] [--no-minify]
 * [--no-source-map]`: bundles a controller with the guest SDK (or wraps a wasm32-wasi module)
 * into a guest artifact, with its source map and, when `--circuit` names one, its circuit
 * compiled by circom2 (`-l` adds include directories). The artifact's name is NAME, else the
 * file's name.
 */
export const buildCommand: Command = async (argv, io) => {
  const { args, flags } = parseCommandLine("build", argv, ["GUEST"], {
    output: { type: "string", short: "o" },
    circuit: { type: "string" },
    lib: { type: "string", short: "l", multiple: true },
    "no-minify": { type: "boolean" },
    "no-source-map": { type: "boolean" },
  });
  const input = args["GUEST"]!;
  const output = (flags["output"] as string | undefined) ?? `${nameOf(input)}.zkg`;
  const circuit = flags["circuit"] as string | undefined;
  const libraries = (flags["lib"] as unknown as string[] | undefined) ?? [];
  if (circuit === undefined && libraries.length > 0) throw new UsageError("build: -l/--lib adds include directories for --circuit, which is missing");
  const minify = !flags["no-minify"];
  const bundle = path.join(path.dirname(output), `${nameOf(output)}.bundle.js`);
  if (!minify && path.resolve(bundle) === path.resolve(input)) throw new UsageError(`build: --no-minify would write the bundle over ${input}; choose another -o`);
  return reportingBuildErrors(io, async () => {
    const options = { ...(circuit === undefined ? {} : { circuit }), libraries, minify, sourceMap: !flags["no-source-map"] };
    const { artifact, bytes } = await buildArtifact(input, nameOf(output), options);
    writeFileSync(output, bytes);
    const m = artifact.manifest;
    const circuitNote = m.circuit === undefined ? "" : `, circuit ${path.basename(circuit!)} (sha256 ${m.circuit.sha256})`;
    const lines = [`${shown(output)}: ${m.engine} guest '${m.name}', ${bytes.length.toLocaleString("en-US")} bytes${circuitNote}, program id ${m.id}`];
    if (!minify && m.engine === "js") {
      writeFileSync(bundle, artifact.code);
      lines.push(`${shown(bundle)}: its code, unminified, ${artifact.code.length.toLocaleString("en-US")} bytes`);
    }
    printLines(io.stdout, lines);
    return EXIT_OK;
  });
};

/** A path as the user would type it from here. */
function shown(file: string): string {
  return path.relative(process.cwd(), path.resolve(file)) || file;
}
