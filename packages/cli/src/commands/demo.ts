import { DevProver, Host, programRef } from "@zkguest/host-sdk";
import { ZkguestError } from "@zkguest/protocol/core";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { EXIT_FAILED, EXIT_OK, printLines, type CliIO, type Command } from "../cli-io.js";
import { loadGroth16, writeSnarkjsFiles } from "../groth16.js";
import { CLI_BIN, REPO_DIR } from "../cli-location.js";
import { parseCommandLine } from "../command-line.js";
import { buildArtifact, reportingBuildErrors } from "../guest-artifact.js";
import { failureLine, printRun, readStoredFiles } from "../run-output.js";
import { hexdumpLines } from "../shown-bytes.js";

const CONTROLLER = path.join(REPO_DIR, "examples/hello-js/controller.ts");
const PROOF_PATH = "/var/share/proof.bin";
const ARGS = { numbers: [3, 5, 8, 13] };

export const demoUsage = `usage: zkguest demo [--groth16]
  build, deploy and prove examples/hello-js, and read its proof back from its disk
  --groth16          a real proof instead: examples/sum-groth16, its circom circuit and snarkjs
Runs from a checkout of the zkguest repository.
`;

/**
 * `zkguest demo [--groth16]`: the whole story in a few seconds (with --groth16, a real proof: below). Builds examples/hello-js, deploys it on a
 * host with the dev prover, proves it (the guest stores its proof at /var/share/proof.bin on its
 * FAT-16 disk), reads the proof back from that disk, and again with `zkguest fs cat`.
 */
export const demoCommand: Command = async (argv, io) => {
  const { flags } = parseCommandLine("demo", argv, [], { groth16: { type: "boolean" } });
  if (flags["groth16"]) return groth16Demo(io);
  if (!existsSync(CONTROLLER)) throw new ZkguestError("not_found", `${CONTROLLER}: the demo runs from a checkout of the zkguest repository`);
  const say = (text: string) => printLines(io.stdout, text.split("\n"));
  const dir = mkdtempSync(path.join(tmpdir(), "zkguest-demo-"));
  const image = path.join(dir, "hello.img");
  return reportingBuildErrors(io, async () => {
    const host = await Host.create({ dataDir: path.join(dir, "host"), devMode: true, poolSize: 1 });
    try {
      say("zkguest demo: a guest program proves a sum and stores the proof on its own FAT-16 disk.\n");
      const { artifact, bytes } = await buildArtifact(CONTROLLER, "hello");
      say(`1. build   examples/hello-js/controller.ts, bundled with the guest SDK: ${bytes.length.toLocaleString("en-US")} bytes`);
      const program = await host.deploy(bytes);
      say(`2. deploy  program ${program} on a host with the dev prover`);
      say(`3. prove   ${JSON.stringify(ARGS)} (the program's disk is ${image})\n`);
      const report = await host.prove(program, ARGS, { image });
      printRun(io, artifact.manifest.name, report, await readStoredFiles(host, report, { image }));
      if (report.status !== "proved" || !report.proof) {
        printLines(io.stderr, [failureLine(report)]);
        return EXIT_FAILED;
      }
      const stored = await host.readFile(program, PROOF_PATH, { image });
      const same = Buffer.from(stored).equals(Buffer.from(report.proof));
      say(`\n4. read    ${PROOF_PATH} back from the disk: ${stored.length} bytes, ${same ? "identical to" : "DIFFERENT from"} the report's proof`);
      say(hexdumpLines(stored).map((line) => `   ${line}`).join("\n"));
      const cat = spawnSync(process.execPath, [CLI_BIN, "fs", "cat", image, PROOF_PATH]);
      const catSame = cat.status === 0 && cat.stdout.equals(Buffer.from(stored));
      say(`5. again   zkguest fs cat ${path.basename(image)} ${PROOF_PATH}: ${catSame ? `the same ${cat.stdout.length} bytes, read by the CLI from the image file` : `failed: ${cat.stderr.toString().trim()}`}`);
      await host.verify(report);
      const strict = await new DevProver({ devMode: false }).verify(report.proof, { id: program, manifest: artifact.manifest }, report.witnesses);
      const refusal = strict._tag === "Left" ? `a prover without dev mode refuses it: ${strict.left.message}` : "a prover without dev mode ACCEPTED it";
      say(`6. verify  the host (in dev mode) accepts the proof; ${refusal}\n`);
      say(`Try it yourself: npx zkguest run examples/hello-js/controller.ts --args '${JSON.stringify(ARGS)}' --image disk.img`);
      say("A real proof (Groth16, a circom circuit): npm run demo -- --groth16");
      return same && catSame && strict._tag === "Left" ? EXIT_OK : EXIT_FAILED;
    } finally {
      await host.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
};

const SUM_DIR = path.join(REPO_DIR, "examples/sum-groth16");
const SUM_ARGS = { numbers: [3, 5, 8, 13], request: 7 };
/** The demo's keys stay in the checkout (.zkguest/keys, git-ignored): made once, used by every later run. */
const DEMO_KEYS = path.join(REPO_DIR, ".zkguest", "keys");

/**
 * `zkguest demo --groth16`: a real proof. Builds examples/sum-groth16 with its circom circuit,
 * sets up its keys (a development ceremony, once: later runs reuse them), proves a run with the
 * groth16 prover (the guest stores the proof on its disk), verifies it with zkguest and with
 * snarkjs's own CLI, shows a tampered proof refused, and writes the Solidity verifier.
 */
async function groth16Demo(io: CliIO): Promise<number> {
  const controller = path.join(SUM_DIR, "controller.ts");
  if (!existsSync(controller)) throw new ZkguestError("not_found", `${controller}: the demo runs from a checkout of the zkguest repository`);
  const groth16 = await loadGroth16();
  const say = (text: string) => printLines(io.stdout, text.split("\n"));
  const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;
  const dir = mkdtempSync(path.join(tmpdir(), "zkguest-demo-"));
  const image = path.join(dir, "sum.img");
  const prover = new groth16.Groth16Prover({ keysDir: DEMO_KEYS, devMode: true });
  return reportingBuildErrors(io, async () => {
    const host = await Host.create({ dataDir: path.join(dir, "host"), prover, devMode: true, poolSize: 1 });
    try {
      say("zkguest demo --groth16: a guest proves a sum of private numbers with a real Groth16 proof.\n");
      let started = performance.now();
      const { artifact, bytes } = await buildArtifact(controller, "sum", { circuit: path.join(SUM_DIR, "circuit.circom") });
      say(`1. build   examples/sum-groth16: controller + circuit.circom (circom2): ${bytes.length.toLocaleString("en-US")} bytes, ${seconds(started)}`);
      const program = await host.deploy(bytes);
      started = performance.now();
      const setup = await prover.setup(programRef(artifact));
      const setupNote = setup.cached ? `already made, in ${path.relative(process.cwd(), DEMO_KEYS) || DEMO_KEYS}` : `made in ${seconds(started)} (kept in ${path.relative(process.cwd(), DEMO_KEYS) || DEMO_KEYS} for the next run)`;
      say(`2. setup   keys for ${setup.keys.record.constraints} constraints: ${setupNote}`);
      say(`           ${groth16.DEV_CEREMONY_WARNING}`);
      say(`3. prove   ${JSON.stringify(SUM_ARGS)}: the sum is public, the numbers are not (the program's disk is ${image})\n`);
      const report = await host.prove(program, SUM_ARGS, { image });
      printRun(io, artifact.manifest.name, report, await readStoredFiles(host, report, { image }));
      if (report.status !== "proved" || !report.proof) {
        printLines(io.stderr, [failureLine(report)]);
        return EXIT_FAILED;
      }
      const stored = await host.readFile(program, "/var/share/proof.bin", { image });
      const same = Buffer.from(stored).equals(Buffer.from(report.proof));
      say(`\n4. read    /var/share/proof.bin back from the disk: ${stored.length} bytes, ${same ? "identical to" : "DIFFERENT from"} the report's proof`);
      await host.verify(report);
      say("5. verify  zkguest (Host.verify): accepted");
      const files = writeSnarkjsFiles(path.join(dir, "out"), stored, prover, groth16);
      const snarkjs = spawnSync(process.execPath, [path.join(REPO_DIR, "node_modules/snarkjs/build/cli.cjs"), "groth16", "verify", files.vkey, files.public, files.proof], { encoding: "utf8" });
      const independent = snarkjs.status === 0 && /OK/.test(snarkjs.stdout);
      say(`6. again   snarkjs groth16 verify verification_key.json public.json proof.json: ${independent ? "OK (a verifier zkguest did not write agrees)" : `FAILED: ${(snarkjs.stdout + snarkjs.stderr).trim()}`}`);
      // Without the witnesses (as a client checks it): only the pairing can refuse it.
      const verdict = await prover.verify(tamperPublicSignal(report.proof), programRef(artifact));
      const refusal = verdict._tag === "Left" ? verdict.left.message : "ACCEPTED";
      say(`7. tamper  the same proof claiming sum 30, checked as a client would (no witnesses): ${refusal}`);
      const solidity = await prover.exportSolidityVerifier(programRef(artifact));
      say(`8. export  a Solidity verifier for this key: ${solidity.length.toLocaleString("en-US")} characters (zkguest export-verifier sum.zkg -o Verifier.sol)\n`);
      say(`Try it yourself: see examples/sum-groth16/README.md`);
      return same && independent && refusal !== "ACCEPTED" ? EXIT_OK : EXIT_FAILED;
    } finally {
      await host.close();
      await prover.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

/** The proof with its first public signal (the sum) changed: what a forger would try. */
function tamperPublicSignal(proof: Uint8Array): Uint8Array {
  const envelope = JSON.parse(Buffer.from(proof).toString("utf8")) as { publicSignals: string[] };
  envelope.publicSignals[0] = String(BigInt(envelope.publicSignals[0]!) + 1n);
  return Buffer.from(JSON.stringify(envelope), "utf8");
}
