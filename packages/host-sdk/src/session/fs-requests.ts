import type { Stat as VolumeStat } from "@zkguest/fat16";
import { failure, type Body, type Failure, type Stat, type Value } from "@zkguest/protocol";
import { either as E } from "fp-ts";
import type { RunLimits } from "../run-limits.js";
import type { LazyDisk } from "./disk.js";
import type { PhaseRecorder } from "./recorder.js";

/** The guest's disk requests (SPEC.md §5.2). */
export type FsKind = "fs.store" | "fs.read" | "fs.list" | "fs.stat" | "fs.remove" | "fs.mkdir";
export type FsRequest = { [K in FsKind]: { readonly kind: K; readonly body: Body<K> } }[FsKind];

export function isFsKind(kind: string): kind is FsKind {
  return kind.startsWith("fs.");
}

/**
 * Carries out one disk request on the program's volume and gives the `ok` value. The store's
 * own failures (its ZkguestErrors: invalid_name, no_space, quota_exceeded, ...) are thrown and
 * become `error` responses one level up; only what the host checks itself comes back as a Left.
 */
export function handleFsRequest(request: FsRequest, disk: LazyDisk, limits: RunLimits, recorder: PhaseRecorder): E.Either<Failure, Value> {
  const path = request.body.path;
  const pathBytes = Buffer.byteLength(path, "utf8");
  if (pathBytes > limits.maxPathBytes) {
    return E.left(failure("invalid_path", `the path has ${pathBytes} bytes, max_path_bytes is ${limits.maxPathBytes}`));
  }
  switch (request.kind) {
    case "fs.store": {
      const { data, mode } = request.body;
      const stat = disk.get().writeFile(path, data, mode);
      recorder.fileWritten(volumePath(path), stat.size, data.length);
      return E.right(statValue(stat));
    }
    case "fs.read": {
      // A response must fit in a frame: never read more than one can hold.
      const length = Math.min(request.body.length ?? Infinity, limits.maxFrameBytes);
      return E.right(disk.get().readFile(path, { offset: request.body.offset ?? 0, length }));
    }
    case "fs.list": {
      // A page of the entries (SPEC.md §5.2): from `offset`, at most `length` of them.
      const offset = request.body.offset ?? 0;
      const end = request.body.length === undefined ? undefined : offset + request.body.length;
      return E.right(disk.get().list(path).slice(offset, end).map(statValue));
    }
    case "fs.stat":
      return E.right(statValue(disk.get().stat(path)));
    case "fs.remove":
      disk.get().remove(path);
      recorder.fileRemoved(volumePath(path));
      return E.right(null);
    case "fs.mkdir":
      disk.get().mkdir(path, { parents: request.body.parents ?? false });
      return E.right(null);
  }
}

/** A Stat as the protocol sends it (a plain map, keys in canonical order). */
function statValue(stat: VolumeStat): Stat & Value {
  return { modified: stat.modified, name: stat.name, size: stat.size, type: stat.type };
}

/**
 * The path as the volume resolved it (SPEC.md §4.4): `.` dropped, `..` applied, names
 * upper-case. Only called after the volume accepted the path, so it is valid.
 */
export function volumePath(path: string): string {
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part.toUpperCase());
  }
  return "/" + out.join("/");
}
