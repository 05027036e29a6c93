import { MAX_ARTIFACT_BYTES } from "@zkguest/host-sdk";
import { ZkguestError } from "@zkguest/protocol/core";
import { open, type FileHandle } from "node:fs/promises";

const CHUNK_BYTES = 1024 * 1024;

/**
 * A file's bytes, at most `maxBytes` of them: a missing file or a directory is `not_found`, a
 * larger file is the error `tooLarge` gives. It reads one byte past the limit rather than trusting
 * the file's size, so a pipe or a growing file is bounded too.
 */
export async function readBoundedFile(file: string, maxBytes: number, tooLarge: () => Error): Promise<Buffer> {
  let handle: FileHandle;
  try {
    handle = await open(file, "r");
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === "ENOENT" || code === "ENOTDIR") throw new ZkguestError("not_found", `${file}: no such file`);
    if (code === "EISDIR") throw new ZkguestError("not_found", `${file}: not a file (a directory)`);
    throw err;
  }
  try {
    if ((await handle.stat()).isDirectory()) throw new ZkguestError("not_found", `${file}: not a file (a directory)`);
    // Read in chunks: memory follows the file's size, not the limit.
    const chunks: Buffer[] = [];
    let length = 0;
    for (;;) {
      const chunk = Buffer.alloc(Math.min(CHUNK_BYTES, maxBytes + 1 - length));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) return Buffer.concat(chunks, length);
      chunks.push(chunk.subarray(0, bytesRead));
      length += bytesRead;
      if (length > maxBytes) throw tooLarge();
    }
  } finally {
    await handle.close();
  }
}

/** A file that should be a guest artifact (or a proof, which is smaller): refused past MAX_ARTIFACT_BYTES before it is all read. */
export function readArtifactFile(file: string): Promise<Buffer> {
  return readBoundedFile(file, MAX_ARTIFACT_BYTES, () => new ZkguestError("limit_exceeded", `${file}: more than ${MAX_ARTIFACT_BYTES} bytes, the largest artifact`));
}
