import type { Command } from "../cli-io.js";
import { UsageError } from "../cli-io.js";

export const protocolCommand: Command = async (argv) => {
  throw new UsageError(`zkguest protocol: not implemented yet (${argv.join(" ")})`);
};
