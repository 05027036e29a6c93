import { createArtifact, readArtifactFile, type Artifact } from "@zkguest/host-sdk";
import { SUPPORTED_VERSIONS, ZkguestError, type Version } from "@zkguest/protocol/core";
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { BuildError, bundleController, type BundleOptions } from "./bundle.js";
import { EXIT_FAILED, printLines, UsageError, type CliIO } from "./cli-io.js";
import { loadGroth16 } from "./groth16.js";

/** What a GUEST argument may be, by extension. */
const CONTROLLER_EXTENSIONS = [".ts", ".mts", ".js", ".mjs"];
const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];

export interface BuildOptions extends BundleOptions {
  /** A circom circuit the program proves with the groth16 prover (compiled by circom2 and carried in the artifact). */
  readonly circuit?: string;
  /** Where the circuit's includes are searched, after the including file's directory (circom's `-l`). */
  readonly libraries?: readonly string[];
}

/**
 * Builds the artifact for a controller (bundled with the guest SDK, minified and with its source
 * map unless `options` say otherwise) or a wasm32-wasi module, with its circuit when
 * `options.circuit` names one. `name` is the manifest's name. Throws BuildError when a
 * controller or the circuit does not compile.
 */
export async function buildArtifact(file: string, name: string, options: BuildOptions = {}): Promise<{ artifact: Artifact; bytes: Uint8Array }> {
  const ext = path.extname(file).toLowerCase();
  const protocol = protocolRange();
  requireFile(file);
  const withCircuit = async () => (options.circuit === undefined ? {} : { circuit: await compileCircuit(options.circuit, options.libraries ?? []) });
  if (ext === ".wasm") {
    const code = readFileSync(file);
    if (!WASM_MAGIC.every((b, i) => code[i] === b)) {
      throw new BuildError([`${file}: not a WebAssembly module (no \\0asm header)`]);
    }
    return createArtifact({ name, engine: "wasm", code, protocol, ...(await withCircuit()) });
  }
  if (CONTROLLER_EXTENSIONS.includes(ext)) {
    const { code, sourceMap, sdk } = await bundleController(file, options);
    return createArtifact({ name, engine: "js", code, protocol, sdk, ...(sourceMap === undefined ? {} : { sourceMap }), ...(await withCircuit()) });
  }
  throw new UsageError(`${file}: expected a controller (${CONTROLLER_EXTENSIONS.join(", ")}) or a .wasm module`);
}

/**
 * A GUEST argument of `zkguest run`: a `.zkg` artifact is read as it is; anything else is built
 * on the fly, named after its file.
 */
export async function loadGuest(file: string): Promise<{ artifact: Artifact; bytes: Uint8Array }> {
  if (path.extname(file).toLowerCase() !== ".zkg") return buildArtifact(file, nameOf(file));
  return readArtifactFile(file);
}

/** Compiles a circuit with the groth16 prover's circom2; a circuit that does not compile is a BuildError. */
async function compileCircuit(file: string, libraries: readonly string[]): Promise<{ format: string; bytes: Uint8Array }> {
  requireFile(file);
  const groth16 = await loadGroth16();
  try {
    return { format: groth16.CIRCUIT_FORMAT, bytes: (await groth16.compileCircuit(file, { libraries })).bytes };
  } catch (err) {
    if (err instanceof groth16.CircuitBuildError) throw new BuildError(err.problems);
    throw err;
  }
}

function requireFile(file: string): void {
  if (!existsSync(file) || !statSync(file).isFile()) throw new ZkguestError("not_found", `${file}: no such file`);
}

/** The default artifact name: the file's name without its extension. */
export function nameOf(file: string): string {
  return path.basename(file, path.extname(file));
}

/**
 * The protocol versions this toolchain's SDK speaks, lowest and highest. A peer speaks every
 * minor of a major up to its own (SPEC.md §8 negotiates down), so the lowest is minor 0.
 */
function protocolRange(): { min: Version; max: Version } {
  const sorted = [...SUPPORTED_VERSIONS].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return { min: [sorted[0]![0], 0], max: sorted[sorted.length - 1]! };
}

/**
 * Runs a command body that builds a guest; a BuildError is printed one line per problem
 * (`zkguest: build: controller.ts:3:7: ...`) and gives exit code 1.
 */
export async function reportingBuildErrors(io: CliIO, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (!(err instanceof BuildError)) throw err;
    printLines(io.stderr, err.problems.map((p) => `zkguest: build: ${p}`));
    return EXIT_FAILED;
  }
}
