import type { CliIO } from "./cli-io.js";

/** The bytes of standard input, read to the end. */
export async function readStdin(io: CliIO): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** `-` means standard input; anything else is the argument itself. */
export async function readArgOrStdin(arg: string, io: CliIO): Promise<Buffer> {
  return arg === "-" ? readStdin(io) : Buffer.from(arg, "utf8");
}
