import { Volume } from "@zkguest/fat16";
import fs from "node:fs";
import { Readable } from "node:stream";
import type { DiskEntry } from "./backend.js";
import { HttpError } from "./http/problem.js";

/** Reads a path of a FAT-16 image: a file (at most `maxBytes`, else `limit_exceeded`) or a directory's entries. */
export function readDiskEntry(image: string, filePath: string, maxBytes: number): DiskEntry {
  const volume = Volume.open(image, { readOnly: true });
  try {
    const stat = volume.stat(filePath);
    if (stat.type === "dir") return { type: "dir", entries: volume.list(filePath) };
    if (stat.size > maxBytes) throw new HttpError(413, "limit_exceeded", `${filePath} holds ${stat.size} bytes, more than the ${maxBytes} this server sends; read the whole disk instead`);
    return { type: "file", data: volume.readFile(filePath) };
  } finally {
    volume.close();
  }
}

/** A copy of an image file, streamed and removed once read (or abandoned). */
export async function imageCopy(copy: string): Promise<{ bytes: number; stream: Readable }> {
  const { size } = await fs.promises.stat(copy);
  const stream = fs.createReadStream(copy);
  // A copy that cannot be removed now is left in the backend's scratch directory (emptied at start or close).
  stream.once("close", () => fs.promises.rm(copy, { force: true }).catch(() => {}));
  return { bytes: size, stream };
}
