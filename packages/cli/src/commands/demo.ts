import { DevProver, Host } from "@zkguest/host-sdk";
import { ZkguestError } from "@zkguest/protocol/core";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { EXIT_FAILED, EXIT_OK, printLines, type Command } from "../cli-io.js";
import { CLI_BIN, REPO_DIR } from "../cli-location.js";
import { parseCommandLine } from "../command-line.js";
import { buildArtifact, reportingBuildErrors } from "../guest-artifact.js";
import { failureLine, printRun, readStoredFiles } from "../run-output.js";

const CONTROLLER = path.join(REPO_DIR, "examples/hello-js/controller.ts");
const PROOF_PATH = "/var/share/proof.bin";
const ARGS = { numbers: [3, 5, 8, 13] };

/**
 * `zkguest demo`: the whole story in a few seconds. Builds examples/hello-js, deploys it on a
 * host with the dev prover, proves it (the guest stores its proof at /var/share/proof.bin on its
 * FAT-16 disk), reads the proof back from that disk, and again with `zkguest fs cat`.
 */
export const demoCommand: Command = async (argv, io) => {
  parseCommandLine("demo", argv, []);
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
      say(hexdump(stored));
      const cat = spawnSync(process.execPath, [CLI_BIN, "fs", "cat", image, PROOF_PATH]);
      const catSame = cat.status === 0 && cat.stdout.equals(Buffer.from(stored));
      say(`5. again   zkguest fs cat ${path.basename(image)} ${PROOF_PATH}: ${catSame ? `the same ${cat.stdout.length} bytes, read by the CLI from the image file` : `failed: ${cat.stderr.toString().trim()}`}`);
      await host.verify(report);
      const strict = await new DevProver({ devMode: false }).verify(report.proof, { id: program, manifest: artifact.manifest }, report.witnesses);
      const refusal = strict._tag === "Left" ? `a prover without dev mode refuses it: ${strict.left.message}` : "a prover without dev mode ACCEPTED it";
      say(`6. verify  the host (in dev mode) accepts the proof; ${refusal}\n`);
      say(`Try it yourself: npx zkguest run examples/hello-js/controller.ts --args '${JSON.stringify(ARGS)}' --image disk.img`);
      return same && catSame && strict._tag === "Left" ? EXIT_OK : EXIT_FAILED;
    } finally {
      await host.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
};

/** `xxd`-style lines: offset, 16 bytes in hex, and their printable ASCII. */
function hexdump(bytes: Uint8Array): string {
  const lines: string[] = [];
  for (let at = 0; at < bytes.length; at += 16) {
    const row = bytes.subarray(at, at + 16);
    const hex = Array.from(row, (b) => b.toString(16).padStart(2, "0")).join(" ");
    const text = Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : ".")).join("");
    lines.push(`   ${at.toString(16).padStart(8, "0")}  ${hex.padEnd(47)}  |${text}|`);
  }
  return lines.join("\n");
}
