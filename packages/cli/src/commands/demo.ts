import { DevProver, Host, programRef, type RunReport } from "@zkguest/host-sdk";
import { ZkguestError, type Value, type Witness } from "@zkguest/protocol";
import { decodeCircuitInput, decodeUtf8, isCircuitInput } from "@zkguest/protocol/wire";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync } from "node:fs";
import { createRequire } from "node:module";
import { homedir, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { EXIT_FAILED, EXIT_OK, printLines, shellWord, UsageError, type CliIO, type Command } from "../cli-io.js";
import { KEYS_OPTION, loadGroth16, writeSnarkjsFiles } from "../groth16.js";
import { CLI_BIN } from "../cli-location.js";
import { parseCommandLine } from "../command-line.js";
import { buildArtifact, reportingBuildErrors } from "../guest-artifact.js";
import { failureLine, printRun, readStoredFiles } from "../run-output.js";
import { hexdumpLines } from "../shown-bytes.js";

/** The demo's controllers, shipped in this package (dist/examples, copied from the repository's examples/ by its build). */
const EXAMPLES = fileURLToPath(new URL("../../examples/", import.meta.url));
const CONTROLLER = path.join(EXAMPLES, "hello-js/controller.ts");
const PROOF_PATH = "/var/share/proof.bin";
const ARGS = { numbers: [3, 5, 8, 13] };

export const demoUsage = `usage: zkguest demo [--groth16] [--dir DIR] [--keys DIR]
  build, deploy and prove the example hello-js, and read its proof back from its disk
  --groth16          a real proof instead: the example sum-groth16, its circom circuit and snarkjs
                     (needs npm install @zkguest/prover-groth16)
  --dir DIR          where to keep the program's disk image (and --groth16's proof files);
                     default: a new directory under the system's temporary directory
  --keys DIR         --groth16's keys, made once and reused; default: ${displayPath(defaultDemoKeys())}
`;

/**
 * `zkguest demo [--groth16]`: the whole story in a few seconds (with --groth16, a real proof: below). Builds the hello-js example, deploys it on a
 * host with the dev prover, proves it (the guest stores its proof at /var/share/proof.bin on its
 * FAT-16 disk), shows the witnesses it proved, reads the proof back from that disk, and again
 * with `zkguest fs cat`. The disk image is kept (in --dir), so the commands it prints work after it.
 */
export const demoCommand: Command = async (argv, io) => {
  const { flags } = parseCommandLine("demo", argv, [], { groth16: { type: "boolean" }, dir: { type: "string" }, ...KEYS_OPTION });
  const dirFlag = flags["dir"] as string | undefined;
  if (flags["groth16"]) return groth16Demo(io, dirFlag, (flags["keys"] as string | undefined) ?? defaultDemoKeys());
  if (flags["keys"] !== undefined) throw new UsageError("demo: --keys is for --groth16 (the dev prover has no keys)");
  const say = (text: string) => printLines(io.stdout, text.split("\n"));
  return reportingBuildErrors(io, async () => {
    const image = demoFile(dirFlag, "hello.img");
    // The host's own registry is temporary (removed by close()); the disk image is the demo's output.
    const host = await Host.create({ devMode: true, poolSize: 1 });
    try {
      say("zkguest demo: a guest program proves a sum and stores the proof on its own FAT-16 disk.\n");
      const { artifact, bytes } = await buildArtifact(CONTROLLER, "hello");
      say(`1. build   ${displayPath(CONTROLLER)}, bundled with the guest SDK: ${bytes.length.toLocaleString("en-US")} bytes`);
      const program = await host.deploy(bytes);
      say(`2. deploy  program ${program} on a host with the dev prover`);
      say(`3. prove   ${JSON.stringify(ARGS)} (the program's disk is ${displayPath(image)})\n`);
      const proved = await proveAndReadBack(io, host, artifact.manifest.name, program, ARGS, image);
      if (proved === undefined) return EXIT_FAILED;
      const { report, stored, same } = proved;
      say(hexdumpLines(stored).map((line) => `   ${line}`).join("\n"));
      const cat = spawnSync(process.execPath, [CLI_BIN, "fs", "cat", image, PROOF_PATH]);
      const catSame = cat.status === 0 && cat.stdout.equals(Buffer.from(stored));
      say(`5. again   zkguest fs cat ${shellWord(displayPath(image))} ${PROOF_PATH}: ${catSame ? `the same ${cat.stdout.length} bytes, read by the CLI from the image file` : `failed: ${cat.stderr.toString().trim()}`}`);
      await host.verify(report);
      const strict = await new DevProver({ devMode: false }).verify(report.proof, { id: program, manifest: artifact.manifest }, report.witnesses);
      const refusal = strict._tag === "Left" ? `a prover without dev mode refuses it: ${strict.left.message}` : "a prover without dev mode ACCEPTED it";
      say(`6. verify  the host (in dev mode) accepts the proof; ${refusal}\n`);
      say(`The disk image is kept: zkguest fs ls ${shellWord(displayPath(image))} /var/share`);
      say(`Try it yourself: zkguest run ${shellWord(displayPath(CONTROLLER))} --args '${JSON.stringify(ARGS)}' --image disk.img`);
      say("A real proof (Groth16, a circom circuit): zkguest demo --groth16");
      return same && catSame && strict._tag === "Left" ? EXIT_OK : EXIT_FAILED;
    } finally {
      await host.close();
    }
  });
};

const SUM_DIR = path.join(EXAMPLES, "sum-groth16");
const SUM_ARGS = { numbers: [3, 5, 8, 13], request: 7 };

/**
 * Where the --groth16 demo keeps its keys unless --keys says otherwise: the user's cache
 * ($XDG_CACHE_HOME or ~/.cache, zkguest/demo-keys), made once and reused by every later run
 * wherever it is started, and never in the project it is started from.
 */
export function defaultDemoKeys(): string {
  const cache = process.env["XDG_CACHE_HOME"] || path.join(homedir(), ".cache");
  return path.join(cache, "zkguest", "demo-keys");
}

/**
 * `zkguest demo --groth16`: a real proof. Builds the sum-groth16 example with its circom circuit,
 * sets up its keys (a development ceremony, once: later runs reuse them), proves a run with the
 * groth16 prover (the guest stores the proof on its disk), verifies it with zkguest and with
 * snarkjs's own CLI, shows a tampered proof refused, and writes the Solidity verifier.
 */
async function groth16Demo(io: CliIO, dirFlag: string | undefined, keysDir: string): Promise<number> {
  const controller = path.join(SUM_DIR, "controller.ts");
  const groth16 = await loadGroth16();
  const say = (text: string) => printLines(io.stdout, text.split("\n"));
  const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;
  const image = demoFile(dirFlag, "sum.img");
  const dir = path.dirname(image);
  const prover = new groth16.Groth16Prover({ keysDir, devMode: true });
  return reportingBuildErrors(io, async () => {
    const host = await Host.create({ prover, devMode: true, poolSize: 1 });
    try {
      say("zkguest demo --groth16: a guest proves a sum of private numbers with a real Groth16 proof.\n");
      let started = performance.now();
      const { artifact, bytes } = await buildArtifact(controller, "sum", { circuit: path.join(SUM_DIR, "circuit.circom") });
      say(`1. build   ${displayPath(SUM_DIR)}: controller + circuit.circom (circom2): ${bytes.length.toLocaleString("en-US")} bytes, ${seconds(started)}`);
      const program = await host.deploy(bytes);
      started = performance.now();
      const setup = await prover.setup(programRef(artifact));
      const setupNote = setup.cached ? `already made, in ${displayPath(keysDir)}` : `made in ${seconds(started)} (kept in ${displayPath(keysDir)} for the next run)`;
      say(`2. setup   keys for ${setup.keys.record.constraints} constraints: ${setupNote}`);
      say(`           ${groth16.DEV_CEREMONY_WARNING}`);
      say(`3. prove   ${JSON.stringify(SUM_ARGS)}: the sum is public, the numbers are not (the program's disk is ${displayPath(image)})\n`);
      const proved = await proveAndReadBack(io, host, artifact.manifest.name, program, SUM_ARGS, image);
      if (proved === undefined) return EXIT_FAILED;
      const { report, stored, same } = proved;
      await host.verify(report);
      say("5. verify  zkguest (Host.verify): accepted");
      const files = writeSnarkjsFiles(dir, stored, prover, groth16);
      const snarkjs = spawnSync(process.execPath, [snarkjsCli(), "groth16", "verify", files.vkey, files.public, files.proof], { encoding: "utf8" });
      const independent = snarkjs.status === 0 && /OK/.test(snarkjs.stdout);
      say(`6. again   snarkjs groth16 verify verification_key.json public.json proof.json: ${independent ? "OK (a verifier zkguest did not write agrees)" : `FAILED: ${(snarkjs.stdout + snarkjs.stderr).trim()}`}`);
      // Without the witnesses (as a client checks it): only the pairing can refuse it.
      const verdict = await prover.verify(tamperPublicSignal(report.proof), programRef(artifact));
      const refusal = verdict._tag === "Left" ? verdict.left.message : "ACCEPTED";
      say(`7. tamper  the same proof claiming sum 30, checked as a client would (no witnesses): ${refusal}`);
      const solidity = await prover.exportSolidityVerifier(programRef(artifact));
      say(`8. export  a Solidity verifier for this key: ${solidity.length.toLocaleString("en-US")} characters (zkguest export-verifier sum.zkg -o Verifier.sol)\n`);
      say(`Kept in ${displayPath(dir)}: ${path.basename(image)} (the program's disk), proof.json, public.json, verification_key.json (snarkjs's formats)`);
      say(`Try it yourself: the controller and circuit are in ${displayPath(SUM_DIR)}`);
      return same && independent && refusal !== "ACCEPTED" ? EXIT_OK : EXIT_FAILED;
    } finally {
      await host.close();
      await prover.close();
    }
  });
}

/**
 * The path of the demo's output file `name`: in --dir (made if needed; the file must not exist
 * yet, since the demo would otherwise run on an old disk), or in a new temporary directory.
 */
function demoFile(dirFlag: string | undefined, name: string): string {
  const dir = dirFlag === undefined ? mkdtempSync(path.join(tmpdir(), "zkguest-demo-")) : path.resolve(dirFlag);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  if (existsSync(file)) throw new ZkguestError("already_exists", `${displayPath(file)}: the demo makes a new disk image; remove it or pass another --dir`);
  return file;
}

/** snarkjs's command-line script, as the groth16 prover's own copy of snarkjs resolves. */
function snarkjsCli(): string {
  const prover = createRequire(import.meta.resolve("@zkguest/prover-groth16"));
  return path.join(path.dirname(prover.resolve("snarkjs")), "cli.cjs");
}

/** The witnesses the run proved, one line each: a circuit's input signals, text, or the first bytes in hex. */
/**
 * Steps 3 and 4 of both demos: proves `args` on `image`, prints the run and the witnesses it
 * proved, and reads the proof the guest stored back from its disk. Undefined (the failure
 * printed) when the run did not prove.
 */
async function proveAndReadBack(io: CliIO, host: Host, name: string, program: string, args: Value, image: string): Promise<{ report: RunReport & { proof: Uint8Array }; stored: Uint8Array; same: boolean } | undefined> {
  const report = await host.prove(program, args, { image });
  printRun(io, name, report, await readStoredFiles(host, report, { image }));
  printWitnesses(io, report);
  const { proof } = report;
  if (report.status !== "proved" || !proof) {
    printLines(io.stderr, [failureLine(report)]);
    return undefined;
  }
  const stored = await host.readFile(program, PROOF_PATH, { image });
  const same = Buffer.from(stored).equals(Buffer.from(proof));
  printLines(io.stdout, ["", `4. read    ${PROOF_PATH} back from the disk: ${stored.length} bytes, ${same ? "identical to" : "DIFFERENT from"} the report's proof`]);
  return { report: { ...report, proof }, stored, same };
}

function printWitnesses(io: CliIO, report: RunReport): void {
  if (report.witnesses.length === 0) return;
  printLines(io.stdout, ["witnesses proved:", ...report.witnesses.map((w, i) => `  ${i}  ${describeWitness(w)}`)]);
}

const SHOWN_BYTES = 64;

function describeWitness(w: Witness): string {
  if (w.type === "state_proof") return `state_proof  domain ${JSON.stringify(w.domain)}, root ${hex(w.root)}, payload ${w.payload.length} bytes, proof ${w.proof.length} bytes`;
  const size = `${w.data.length} bytes`;
  if (isCircuitInput(w.data)) return `data  ${size}, circuit input ${JSON.stringify(decodeCircuitInput(w.data), (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v))}`;
  const text = printableText(w.data);
  return text === undefined ? `data  ${size}: ${hex(w.data)}` : `data  ${size}: ${JSON.stringify(text)}`;
}

/** The bytes as text when they are valid UTF-8 without control characters (other than newlines and tabs). */
function printableText(bytes: Uint8Array): string | undefined {
  try {
    const text = decodeUtf8(bytes);
    return /[\u0000-\u0008\u000b-\u001f\u007f]/.test(text) ? undefined : text.length > 200 ? `${text.slice(0, 200)}...` : text;
  } catch {
    return undefined;
  }
}

function hex(bytes: Uint8Array): string {
  const shown = Buffer.from(bytes.subarray(0, SHOWN_BYTES)).toString("hex");
  return bytes.length > SHOWN_BYTES ? `${shown}...` : shown;
}

/** A path as the user would type it here: relative to the working directory when inside it. */
function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative !== "" && !relative.startsWith("..") && !path.isAbsolute(relative) ? relative : file;
}

/** The proof with its first public signal (the sum) changed: what a forger would try. */
function tamperPublicSignal(proof: Uint8Array): Uint8Array {
  const envelope = JSON.parse(Buffer.from(proof).toString("utf8")) as { publicSignals: string[] };
  envelope.publicSignals[0] = String(BigInt(envelope.publicSignals[0]!) + 1n);
  return Buffer.from(JSON.stringify(envelope), "utf8");
}
