import fs from "node:fs";
import { ZkguestError } from "@zkguest/protocol/core";

/**
 * Where a volume's bytes live. Synchronous on purpose: the store is called from inside
 * synchronous host calls (QuickJS, WebAssembly imports). Positions are byte offsets from the
 * start of the volume; implementations must refuse anything outside [0, byteLength).
 */
export interface BlockDevice {
  readonly byteLength: number;
  /** Fills `into` from `position`; throws if the bytes are not all there. */
  read(position: number, into: Uint8Array): void;
  /** Writes the buffers back to back from `position`, in one system call where possible. */
  write(position: number, data: Uint8Array | readonly Uint8Array[]): void;
  /** Makes every completed write durable (fsync); the store's ordering barrier. */
  sync(): void;
  close(): void;
}

/**
 * An image file's identity (device and inode) and version (size, modification and change times
 * to the nanosecond). After markVersion, any write to the file changes the version.
 */
export interface FileVersion {
  readonly file: string;
  readonly version: string;
}

function checkRange(device: { byteLength: number }, position: number, length: number, what: string): void {
  if (!Number.isSafeInteger(position) || position < 0 || position + length > device.byteLength) {
    // Every position is derived from validated geometry, so reaching this is a bug, not bad input.
    throw new ZkguestError("internal", `${what} of ${length} bytes at ${position} is outside the volume (${device.byteLength} bytes)`);
  }
}

const totalLength = (data: Uint8Array | readonly Uint8Array[]): number =>
  data instanceof Uint8Array ? data.length : data.reduce((n, b) => n + b.length, 0);

/** Host I/O errors become typed errors: a full host disk is `no_space`, anything else `internal`. */
export function hostError(err: unknown, doing: string): ZkguestError {
  if (err instanceof ZkguestError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  if (code === "ENOSPC" || code === "EDQUOT") return new ZkguestError("no_space", `the host file system is full (${doing}: ${message})`);
  if (code === "ENOENT") return new ZkguestError("not_found", `${doing}: ${message}`);
  if (code === "EISDIR") return new ZkguestError("is_a_directory", `${doing}: ${message}`);
  return new ZkguestError("internal", `${doing}: ${message}`);
}

/** An image file on the host. */
export class FileBlockDevice implements BlockDevice {
  private closed = false;
  private constructor(
    private readonly fd: number,
    private readonly path: string,
    readonly byteLength: number,
  ) {}

  /** Opens the whole image file. */
  static open(path: string, readOnly: boolean): FileBlockDevice {
    let fd: number;
    try {
      fd = fs.openSync(path, readOnly ? "r" : "r+");
    } catch (err) {
      throw hostError(err, `cannot open image '${path}'`);
    }
    try {
      const st = fs.fstatSync(fd);
      if (!st.isFile()) throw new ZkguestError("corrupt_volume", `image '${path}' is not a regular file`);
      return new FileBlockDevice(fd, path, st.size);
    } catch (err) {
      fs.closeSync(fd);
      throw hostError(err, `cannot open image '${path}'`);
    }
  }

  read(position: number, into: Uint8Array): void {
    checkRange(this, position, into.length, "read");
    let done = 0;
    try {
      while (done < into.length) {
        const n = fs.readSync(this.fd, into, done, into.length - done, position + done);
        if (n === 0) break;
        done += n;
      }
    } catch (err) {
      throw hostError(err, `reading image '${this.path}'`);
    }
    if (done < into.length) {
      throw new ZkguestError("corrupt_volume", `image '${this.path}' ends at byte ${position + done}, inside the volume`);
    }
  }

  write(position: number, data: Uint8Array | readonly Uint8Array[]): void {
    checkRange(this, position, totalLength(data), "write");
    try {
      const parts = data instanceof Uint8Array ? [data] : data;
      let at = position;
      if (parts.length > 1) {
        const n = fs.writevSync(this.fd, parts as Uint8Array[], at);
        if (n === totalLength(parts)) return;
        // A short vectored write is rare; finish part by part from where it stopped.
        let skip = n;
        for (const p of parts) {
          if (skip >= p.length) { skip -= p.length; at += p.length; continue; }
          this.writeAll(p.subarray(skip), at + skip);
          at += p.length;
          skip = 0;
        }
        return;
      }
      if (parts[0]) this.writeAll(parts[0], at);
    } catch (err) {
      throw hostError(err, `writing image '${this.path}'`);
    }
  }

  private writeAll(buf: Uint8Array, at: number): void {
    let done = 0;
    while (done < buf.length) done += fs.writeSync(this.fd, buf, done, buf.length - done, at + done);
  }

  sync(): void {
    try {
      fs.fsyncSync(this.fd);
    } catch (err) {
      throw hostError(err, `syncing image '${this.path}'`);
    }
  }

  /** The file's identity and version (see FileVersion). */
  version(): FileVersion {
    const st = fs.fstatSync(this.fd, { bigint: true });
    return { file: `${st.dev}:${st.ino}`, version: `${st.size}:${st.mtimeNs}:${st.ctimeNs}` };
  }

  /**
   * Sets the file's modification time to now with a random microsecond part: a mark that no
   * other write leaves (a write sets the kernel's clock, whatever its granularity), so a later
   * version() that still shows it proves nobody wrote the file since. Returns the version with
   * the mark, or undefined if it could not be set (a file owned by another user) or a write
   * came in between.
   */
  markVersion(): FileVersion | undefined {
    try {
      const before = fs.fstatSync(this.fd, { bigint: true });
      const micros = BigInt(Math.floor(Date.now() / 1000)) * 1_000_000n + BigInt(Math.floor(Math.random() * 1_000_000));
      // The time goes through a double of seconds, truncated to the microsecond: half a
      // microsecond over lands on it exactly.
      fs.futimesSync(this.fd, Number(before.atimeMs) / 1000, (Number(micros) + 0.5) / 1e6);
      const st = fs.fstatSync(this.fd, { bigint: true });
      if (st.mtimeNs !== micros * 1000n) return undefined;
      return { file: `${st.dev}:${st.ino}`, version: `${st.size}:${st.mtimeNs}:${st.ctimeNs}` };
    } catch {
      return undefined;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    fs.closeSync(this.fd);
  }
}

/** A volume held in memory: for tests, fuzzing, and images that never touch the disk. */
export class MemoryBlockDevice implements BlockDevice {
  /** How many sync() calls were made (tests use it to check the barriers). */
  syncs = 0;
  constructor(readonly bytes: Uint8Array) {}

  get byteLength(): number {
    return this.bytes.length;
  }

  read(position: number, into: Uint8Array): void {
    checkRange(this, position, into.length, "read");
    into.set(this.bytes.subarray(position, position + into.length));
  }

  write(position: number, data: Uint8Array | readonly Uint8Array[]): void {
    checkRange(this, position, totalLength(data), "write");
    for (const part of data instanceof Uint8Array ? [data] : data) {
      this.bytes.set(part, position);
      position += part.length;
    }
  }

  sync(): void {
    this.syncs++;
  }

  close(): void {}
}

/** A window of `length` bytes at `offset` of another device (an MBR partition); closing it closes the device. */
export class WindowDevice implements BlockDevice {
  constructor(
    private readonly inner: BlockDevice,
    private readonly offset: number,
    readonly byteLength: number,
  ) {
    checkRange(inner, offset, byteLength, "partition");
  }

  read(position: number, into: Uint8Array): void {
    checkRange(this, position, into.length, "read");
    this.inner.read(this.offset + position, into);
  }

  write(position: number, data: Uint8Array | readonly Uint8Array[]): void {
    checkRange(this, position, totalLength(data), "write");
    this.inner.write(this.offset + position, data);
  }

  sync(): void {
    this.inner.sync();
  }

  close(): void {
    this.inner.close();
  }
}
