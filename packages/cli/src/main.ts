import type { CliIO, Command } from "./cli-io.js";

/** Commands are loaded lazily so that `zkguest fs cat` does not pay for the sandbox's start-up. */
const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  build: { summary: "bundle a controller (or a .wasm module) into a guest artifact", load: async () => (await import("./commands/build.js")).buildCommand },
  conformance: { summary: "check a guest or this host against the protocol (conformance kits)", load: async () => (await import("./commands/conformance.js")).conformanceCommand },
  demo: { summary: "run the demo (--groth16: with a real proof)", load: async () => (await import("./commands/demo.js")).demoCommand },
  "export-verifier": { summary: "write the Solidity verifier of a program's groth16 proofs", load: async () => (await import("./commands/export-verifier.js")).exportVerifierCommand },
  fs: { summary: "make, inspect and change FAT-16 disk images", load: async () => (await import("./commands/fs.js")).fsCommand },
  init: { summary: "scaffold a guest project that builds, tests and runs", load: async () => (await import("./commands/init.js")).initCommand },
  protocol: { summary: "encode or decode protocol frames", load: async () => (await import("./commands/protocol.js")).protocolCommand },
  remote: { summary: "use a zkguest service from the shell: deploy, prove, status, cat", load: async () => (await import("./commands/remote.js")).remoteCommand },
  run: { summary: "run a guest through the whole proof lifecycle (dev prover, or --prover groth16)", load: async () => (await import("./commands/run.js")).runCommand },
  serve: { summary: "the coprocessor service: an HTTP API for deploys, prove jobs and disks", load: async () => (await import("./commands/serve.js")).serveCommand },
  setup: { summary: "make the groth16 proving and verification keys of a program's circuit", load: async () => (await import("./commands/setup.js")).setupCommand },
  verify: { summary: "check a proof against a program's verification key", load: async () => (await import("./commands/verify.js")).verifyCommand },
  worker: { summary: "take the service's runs from PostgreSQL (with serve --database)", load: async () => (await import("./commands/worker.js")).workerCommand },
};

function usage(): string {
  const rows = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(16)} ${c.summary}`);
  return ["usage: zkguest <command> [options]", "", "commands:", ...rows].join("\n") + "\n";
}

export async function main(argv: string[], io: CliIO = process): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    io.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  try {
    const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
    if (!entry) throw new (await import("./cli-io.js")).UsageError(`unknown command '${name}' (try 'zkguest help')`);
    return await (await entry.load())(rest, io);
  } catch (err) {
    // Loaded here, not at the top: `zkguest --help` then starts no more than this module.
    const { describeError, printLines } = await import("./cli-io.js");
    const { line, exitCode, usage } = describeError(err);
    printLines(io.stderr, [`zkguest: ${line}`]);
    if (usage !== undefined) io.stderr.write(`${usage}\n`);
    return exitCode;
  }
}
