import { writeFileSync } from "node:fs";
import path from "node:path";
import { EXIT_OK, printLines, type Command } from "../cli-io.js";
import { parseCommandLine } from "../command-line.js";
import { buildArtifact, nameOf, reportingBuildErrors } from "../guest-artifact.js";

/**
 * `zkguest build GUEST [-o NAME.zkg]`: bundles a controller with the guest SDK (or wraps a
 * wasm32-wasi module) into a guest artifact. The artifact's name is NAME, else the file's name.
 */
export const buildCommand: Command = async (argv, io) => {
  const { args, flags } = parseCommandLine("build", argv, ["GUEST"], { output: { type: "string", short: "o" } });
  const input = args["GUEST"]!;
  const output = (flags["output"] as string | undefined) ?? `${nameOf(input)}.zkg`;
  return reportingBuildErrors(io, async () => {
    const { artifact, bytes } = await buildArtifact(input, nameOf(output));
    writeFileSync(output, bytes);
    const m = artifact.manifest;
    printLines(io.stdout, [`${path.relative(process.cwd(), path.resolve(output)) || output}: ${m.engine} guest '${m.name}', ${bytes.length.toLocaleString("en-US")} bytes, program id ${m.id}`]);
    return EXIT_OK;
  });
};
