import { ZkguestError } from "@zkguest/protocol/core";
import { closeSync, fstatSync, openSync, readFileSync } from "node:fs";
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

/**
 * `-` means standard input; anything else is a file path. At most `maxBytes` (an untrusted
 * file, a proof from anyone): a larger file is refused before it is read, a longer input when
 * it passes the bound.
 */
export async function readFileOrStdin(file: string, io: CliIO, maxBytes: number): Promise<Buffer> {
  const tooLarge = (what: string) => new ZkguestError("limit_exceeded", `${what} is larger than ${maxBytes} bytes`);
  if (file === "-") {
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of io.stdin) {
      const bytes = typeof chunk === "string" ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array);
      if ((total += bytes.length) > maxBytes) throw tooLarge("standard input");
      chunks.push(bytes);
    }
    return Buffer.concat(chunks);
  }
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new ZkguestError("not_found", `${file}: no such file`);
    throw e;
  }
  try {
    if (fstatSync(fd).size > maxBytes) throw tooLarge(file);
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}
