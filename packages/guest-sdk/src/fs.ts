import { ZkguestError, type Stat, type StoreMode, type Value } from "@zkguest/protocol/core";
import { bin, bool, int, name, str } from "@zkguest/protocol/wire";
import { activeSession } from "./session.js";
import { encodeUtf8, utf8Length } from "@zkguest/protocol/wire";

// The program's own disk (SPEC.md §4.4, §5.2): a FAT-16 volume addressed with absolute paths
// whose components are 8.3 names, e.g. /var/share/proof.bin. Every call is one request to the
// host; a failure throws a ZkguestError with the protocol's code (not_found, invalid_name,
// quota_exceeded, ...): a write that did not happen is never a silent success.

/** Checks a path against the host's max_path_bytes before sending it (SPEC.md §6). */
function checkPath(path: string): string {
  const max = activeSession().limits.max_path_bytes;
  if (typeof path !== "string") throw new ZkguestError("invalid_path", "a path must be a string");
  if (utf8Length(path) > max) throw new ZkguestError("invalid_path", `path is longer than the host's limit of ${max} bytes`);
  return path;
}

/** A count or position for the host: a non-negative safe integer. */
function checkCount(n: number, what: string): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new ZkguestError("malformed_frame", `${what} must be a non-negative integer, got ${String(n)}`);
  return n;
}

function isStat(u: unknown): u is Stat {
  const s = u as Stat | null;
  return typeof s === "object" && s !== null && typeof s.name === "string" && (s.type === "file" || s.type === "dir") && Number.isSafeInteger(s.size) && typeof s.modified === "string";
}

function expectResult<T>(ok: (u: unknown) => u is T, u: Value, kind: string, expected: string): T {
  if (!ok(u)) throw new ZkguestError("malformed_frame", `the host answered ${kind} with something other than ${expected}`);
  return u;
}

const isBytes = (u: unknown): u is Uint8Array => u instanceof Uint8Array;
const isStats = (u: unknown): u is Stat[] => Array.isArray(u) && u.every(isStat);
const isNil = (u: unknown): u is null => u === null;

function write(path: string, data: Uint8Array | string, mode: StoreMode): Stat {
  const bytes = typeof data === "string" ? encodeUtf8(data) : data;
  if (!(bytes instanceof Uint8Array)) throw new ZkguestError("malformed_frame", "fs.store: data must be a Uint8Array or a string");
  const value = activeSession().request("fs.store", 3, () => {
    name("data");
    bin(bytes);
    name("mode");
    name(mode);
    name("path");
    str(checkPath(path));
  });
  return expectResult(isStat, value, "fs.store", "a Stat");
}

function simple(kind: "fs.stat" | "fs.remove", path: string): Value {
  return activeSession().request(kind, 1, () => {
    name("path");
    str(checkPath(path));
  });
}

/** The SDK's view of the program's disk. Strings are written as UTF-8. */
export const fs = {
  /**
   * Writes a whole file, creating missing parent directories. `mode` "overwrite" (the default)
   * replaces the content atomically; "create" fails with already_exists if the file exists.
   * The write must fit in one frame (the host's max_frame_bytes); larger data goes in with
   * `append`. Returns the file's Stat.
   */
  store(path: string, data: Uint8Array | string, options: { mode?: "create" | "overwrite" } = {}): Stat {
    return write(path, data, options.mode ?? "overwrite");
  },

  /** Adds to the end of a file, creating it if missing. Returns the file's Stat. */
  append(path: string, data: Uint8Array | string): Stat {
    return write(path, data, "append");
  },

  /**
   * Reads a file: `length` bytes from `offset` when given (fewer past the end), otherwise all of
   * it from `offset`, in as many requests as the host's frame limit needs.
   */
  read(path: string, options: { offset?: number; length?: number } = {}): Uint8Array {
    const session = activeSession();
    const readRange = (offset: number, length: number) =>
      expectResult(
        isBytes,
        session.request("fs.read", 3, () => {
          name("length");
          int(length);
          name("offset");
          int(offset);
          name("path");
          str(checkPath(path));
        }),
        "fs.read",
        "bytes",
      );
    const offset = options.offset ?? 0;
    if (options.length !== undefined) return readRange(offset, options.length);
    // Room for the ok frame around the bytes: the envelope and the bin header.
    const chunk = session.limits.max_frame_bytes - 64;
    const parts: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const part = readRange(offset + total, chunk);
      parts.push(part);
      total += part.length;
      if (part.length < chunk) break;
    }
    if (parts.length === 1) return parts[0]!;
    const out = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  },

  /**
   * The entries of a directory, in directory order. With `offset` and `length` (protocol 1.1),
   * one page of them: at most `length` entries from the `offset`-th, so that a large directory
   * can be listed under a small max_frame_bytes. A 1.0 host ignores them and sends every entry:
   * the page is then cut here, so the result is the same.
   */
  list(path: string, page: { offset?: number; length?: number } = {}): Stat[] {
    const { offset, length } = page;
    const fields = 1 + (offset === undefined ? 0 : 1) + (length === undefined ? 0 : 1);
    const value = activeSession().request("fs.list", fields, () => {
      if (length !== undefined) {
        name("length");
        int(checkCount(length, "length"));
      }
      if (offset !== undefined) {
        name("offset");
        int(checkCount(offset, "offset"));
      }
      name("path");
      str(checkPath(path));
    });
    const stats = expectResult(isStats, value, "fs.list", "an array of Stat");
    if (activeSession().version[1] >= 1) return stats;
    return stats.slice(offset ?? 0, length === undefined ? undefined : (offset ?? 0) + length);
  },

  /** The Stat of a file or directory; not_found if there is none. */
  stat(path: string): Stat {
    return expectResult(isStat, simple("fs.stat", path), "fs.stat", "a Stat");
  },

  /** Removes a file or an empty directory. */
  remove(path: string): void {
    expectResult(isNil, simple("fs.remove", path), "fs.remove", "nil");
  },

  /** Makes a directory; with `parents`, also its missing parents, and an existing directory is fine. */
  mkdir(path: string, options: { parents?: boolean } = {}): void {
    const parents = options.parents;
    const value = activeSession().request("fs.mkdir", parents === undefined ? 1 : 2, () => {
      if (parents !== undefined) {
        name("parents");
        bool(parents);
      }
      name("path");
      str(checkPath(path));
    });
    expectResult(isNil, value, "fs.mkdir", "nil");
  },
};
