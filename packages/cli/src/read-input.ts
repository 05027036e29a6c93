import { ZkguestError } from "@zkguest/protocol/core";
import { readBoundedFile } from "./bounded-file.js";
import type { CliIO } from "./cli-io.js";

/**
 * The bytes of standard input, at most `maxBytes`: reading stops with the error `tooLarge`
 * gives as soon as the input passes the bound, so an endless pipe never fills the memory.
 */
export async function readBoundedStdin(io: CliIO, maxBytes: number, tooLarge: () => Error): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of io.stdin) {
    const bytes = typeof chunk === "string" ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array);
    if ((total += bytes.length) > maxBytes) throw tooLarge();
    chunks.push(bytes);
  }
  return Buffer.concat(chunks, total);
}

/** `-` means standard input (at most `maxBytes`); anything else is the argument itself. */
export async function readArgOrStdin(arg: string, io: CliIO, maxBytes: number, tooLarge: () => Error): Promise<Buffer> {
  if (arg === "-") return readBoundedStdin(io, maxBytes, tooLarge);
  const bytes = Buffer.from(arg, "utf8");
  if (bytes.length > maxBytes) throw tooLarge();
  return bytes;
}

/**
 * `-` means standard input; anything else is a file path. At most `maxBytes` (an untrusted
 * file, a proof from anyone): a longer input is refused when it passes the bound.
 */
export async function readFileOrStdin(file: string, io: CliIO, maxBytes: number): Promise<Buffer> {
  const tooLarge = (what: string) => () => new ZkguestError("limit_exceeded", `${what} is larger than ${maxBytes} bytes`);
  return file === "-" ? readBoundedStdin(io, maxBytes, tooLarge("standard input")) : readBoundedFile(file, maxBytes, tooLarge(file));
}
