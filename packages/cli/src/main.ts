import type { CliIO, Command } from "./cli-io.js";

/** Commands are loaded lazily so that `zkguest fs cat` does not pay for the sandbox's start-up. */
const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  build: { summary: "bundle a controller (or a .wasm module) into a guest artifact", load: async () => (await import("./commands/build.js")).buildCommand },
  conformance: { summary: "check a guest or this host against the protocol (conformance kits)", load: async () => (await import("./commands/conformance.js")).conformanceCommand },
  demo: { summary: "run the demo", load: async () => (await import("./commands/demo.js")).demoCommand },
  fs: { summary: "make, inspect and change FAT-16 disk images", load: async () => (await import("./commands/fs.js")).fsCommand },
  init: { summary: "scaffold a guest project that builds, tests and runs", load: async () => (await import("./commands/init.js")).initCommand },
  protocol: { summary: "encode or decode protocol frames", load: async () => (await import("./commands/protocol.js")).protocolCommand },
  run: { summary: "run a guest through the whole proof lifecycle with the dev prover", load: async () => (await import("./commands/run.js")).runCommand },
};

function usage(): string {
  const rows = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(12)} ${c.summary}`);
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
    const { line, exitCode } = (await import("./cli-io.js")).describeError(err);
    io.stderr.write(`zkguest: ${line}\n`);
    return exitCode;
  }
}
