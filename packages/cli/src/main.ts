import { describeError, printLines, UsageError, type CliIO, type Command } from "./cli-io.js";
import { cliVersion } from "./cli-location.js";
import { wantsHelp } from "./command-line.js";

/** What a command module gives: how to run it, and its usage (`zkguest help CMD`, `zkguest CMD --help`). */
interface CommandModule {
  readonly run: Command;
  readonly usage: string;
}

/** Commands are loaded lazily so that `zkguest fs cat` does not pay for the sandbox's start-up. */
const COMMANDS: Record<string, { summary: string; load: () => Promise<CommandModule> }> = {
  build: { summary: "bundle a controller (or a .wasm module) into a guest artifact", load: async () => { const m = await import("./commands/build.js"); return { run: m.buildCommand, usage: m.buildUsage }; } },
  conformance: { summary: "check a guest or this host against the protocol (conformance kits)", load: async () => { const m = await import("./commands/conformance.js"); return { run: m.conformanceCommand, usage: m.conformanceUsage }; } },
  demo: { summary: "run the demo (--groth16: with a real proof)", load: async () => { const m = await import("./commands/demo.js"); return { run: m.demoCommand, usage: m.demoUsage }; } },
  "export-verifier": { summary: "write the Solidity verifier of a program's groth16 proofs", load: async () => { const m = await import("./commands/export-verifier.js"); return { run: m.exportVerifierCommand, usage: m.exportVerifierUsage }; } },
  fs: { summary: "make, inspect and change FAT-16 disk images", load: async () => { const m = await import("./commands/fs.js"); return { run: m.fsCommand, usage: m.fsUsage }; } },
  inspect: { summary: "show what a .zkg artifact or a proof file is (manifest, program, public signals)", load: async () => { const m = await import("./commands/inspect.js"); return { run: m.inspectCommand, usage: m.inspectUsage }; } },
  init: { summary: "scaffold a guest project that builds, tests and runs", load: async () => { const m = await import("./commands/init.js"); return { run: m.initCommand, usage: m.initUsage }; } },
  protocol: { summary: "encode or decode protocol frames", load: async () => { const m = await import("./commands/protocol.js"); return { run: m.protocolCommand, usage: m.protocolUsage }; } },
  remote: { summary: "use a zkguest service from the shell: deploy, prove, status, cat", load: async () => { const m = await import("./commands/remote.js"); return { run: m.remoteCommand, usage: m.remoteUsage }; } },
  run: { summary: "run a guest through the whole proof lifecycle (dev prover, or --prover groth16)", load: async () => { const m = await import("./commands/run.js"); return { run: m.runCommand, usage: m.runUsage }; } },
  serve: { summary: "the coprocessor service: an HTTP API for deploys, prove jobs and disks", load: async () => { const m = await import("./commands/serve.js"); return { run: m.serveCommand, usage: m.serveUsage }; } },
  setup: { summary: "make the groth16 proving and verification keys of a program's circuit", load: async () => { const m = await import("./commands/setup.js"); return { run: m.setupCommand, usage: m.setupUsage }; } },
  verify: { summary: "check a proof against a program's verification key", load: async () => { const m = await import("./commands/verify.js"); return { run: m.verifyCommand, usage: m.verifyUsage }; } },
  worker: { summary: "take the service's runs from PostgreSQL (with serve --database)", load: async () => { const m = await import("./commands/worker.js"); return { run: m.workerCommand, usage: m.workerUsage }; } },
};

function usage(): string {
  const rows = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(16)} ${c.summary}`);
  return ["usage: zkguest <command> [options]", "", "commands:", ...rows, "", "zkguest help COMMAND, or zkguest COMMAND --help: the command's usage", "zkguest --version: this CLI's version"].join("\n") + "\n";
}

function commandNamed(name: string): { summary: string; load: () => Promise<CommandModule> } {
  const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!entry) throw new UsageError(`unknown command '${name}' (try 'zkguest help')`);
  return entry;
}

/**
 * The one dispatcher: `--help`/`-h` anywhere in a command's arguments (or `zkguest help CMD`)
 * prints that command's usage and exits 0 before the command sees its arguments; a usage error
 * is one line naming where the usage is.
 */
export async function main(argv: string[], io: CliIO = process): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (name === undefined) {
      io.stderr.write(usage());
      return 2;
    }
    if (name === "--version" || name === "-V") {
      printLines(io.stdout, [cliVersion()]);
      return 0;
    }
    if (name === "help" || name === "--help" || name === "-h") {
      if (rest.length > 1) throw new UsageError(`help takes at most one command, got ${rest.length}`);
      io.stdout.write(rest[0] === undefined ? usage() : (await commandNamed(rest[0]).load()).usage);
      return 0;
    }
    const command = await commandNamed(name).load();
    if (wantsHelp(rest)) {
      io.stdout.write(command.usage);
      return 0;
    }
    try {
      return await command.run(rest, io);
    } catch (err) {
      if (err instanceof UsageError) throw new UsageError(`${err.message || `${name} needs arguments`} (see 'zkguest help ${name}')`);
      throw err;
    }
  } catch (err) {
    const { line, exitCode } = describeError(err);
    printLines(io.stderr, [`zkguest: ${line}`]);
    return exitCode;
  }
}
