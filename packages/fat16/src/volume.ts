import { ZkguestError, type ErrorCode } from "@zkguest/protocol/core";
import { FileBlockDevice, hostError, type BlockDevice } from "./block-device.js";
import { DIRTY_BYTE } from "./boot-sector.js";
import { scanVolume } from "./check.js";
import {
  ATTR_ARCHIVE,
  ATTR_DIRECTORY,
  attrOf,
  ENTRY_BYTES,
  firstClusterOf,
  isDotDot,
  modifiedOf,
  setCluster,
  setModified,
  setSize,
  sizeOf,
  writeEntry,
} from "./dir-entry.js";
import { Directory } from "./directory.js";
import { formatDosTime, toDosTime, type DosTime, type TimeZone } from "./dos-time.js";
import { FAT_EOC, FAT1_CLEAN } from "./fat.js";
import { Mount } from "./mount.js";
import { joinPath, parsePath, type Component } from "./path.js";
import { fmt, ok, orThrow, within, type Result } from "./result.js";
import { displayName } from "./short-name.js";
import { rememberVerified, takeVerified } from "./verified.js";

/**
 * When changes reach the disk. Every mode writes in the crash-safe order; they differ in when.
 * - `"fsync"` (the default): every change is committed before its call returns, with fsync
 *   barriers between data and FAT, the directory entries, and the freeing of old clusters.
 *   It survives a crash of the process or of the machine.
 * - `"batch"`: changes are committed together, with the same barriers, by `flush()`, `close()`
 *   and every 1,024 changes. A crash loses the uncommitted changes but never damages the volume.
 * - `"ordered"`: every change is committed before its call returns, in order, but nothing is
 *   fsynced (as cp and mcopy do). It survives a crash of the process, whose writes the kernel
 *   keeps in order; after a crash of the machine the volume may need `fsck.fat`.
 */
export type Durability = "fsync" | "batch" | "ordered";

/** A per-volume quota. `bytes` limits the space in use (as `usage().usedBytes`); `files` the number of files and directories. */
export interface Quota {
  readonly bytes?: number;
  readonly files?: number;
}

export interface OpenOptions {
  readonly readOnly?: boolean;
  readonly quota?: Quota;
  readonly durability?: Durability;
  /** The clock for timestamps (default: the system clock). */
  readonly now?: () => Date;
  /** The time zone timestamps are written in (default `local`, as mtools does). */
  readonly timeZone?: TimeZone;
}

/** A file or directory, as SPEC.md §4.5 describes it. */
export interface Stat {
  /** The stored 8.3 name, upper-case ("/" for the root). */
  readonly name: string;
  readonly type: "file" | "dir";
  /** Bytes; 0 for directories. */
  readonly size: number;
  /** The FAT last-write time, `YYYY-MM-DDTHH:MM:SS`, local time, 2-second resolution. */
  readonly modified: string;
}

export interface Usage {
  /** Bytes of the data region (clusters × cluster size). */
  readonly totalBytes: number;
  /** Bytes in allocated clusters: file contents rounded up to clusters, and directories. */
  readonly usedBytes: number;
  readonly freeBytes: number;
  readonly clusterBytes: number;
  readonly files: number;
  readonly directories: number;
  readonly quota?: Quota;
}

export interface VolumeInfo {
  readonly label?: string;
  /** "1234-ABCD", as DOS prints it. */
  readonly serial?: string;
  readonly volumeBytes: number;
  readonly bytesPerSector: number;
  readonly sectorsPerCluster: number;
  readonly clusterBytes: number;
  readonly clusterCount: number;
  /** 1..4 when the volume is an MBR partition, at byte `offset` of the image. */
  readonly partition?: number;
  readonly offset: number;
  /** False when the dirty flag was set at open (the last writer did not close it). */
  readonly cleanlyClosed: boolean;
  readonly readOnly: boolean;
  /**
   * Whether opening walked the whole volume. A writable open does, unless this process closed
   * the image cleanly last and nothing has written to it since (see verified.ts); a read-only
   * open never does.
   */
  readonly checkedAtOpen: boolean;
}

/** `create` fails if the file exists; `overwrite` replaces it atomically; `append` adds to its end. All create it if missing. */
export type WriteMode = "create" | "overwrite" | "append";

/** A file being written in pieces (Volume.createWriter). */
export interface FileWriter {
  /** Adds bytes to the new content; they may be reused once the call returns. */
  write(data: Uint8Array): void;
  /** Makes the new content the file's, atomically, and gives the file's Stat. */
  finish(): Stat;
  /** Drops the new content: the file stays as it was. */
  abort(): void;
}

/** Batch mode commits at least this often. */
const BATCH_CHANGES = 1024;
/** readChunks' default chunk, and what a FileWriter gathers small pieces into: 1 MiB, whole clusters of any size. */
const CHUNK_BYTES = 2 ** 20;
const ROOT_STAT: Stat = { name: "/", type: "dir", size: 0, modified: "1980-01-01T00:00:00" };
const DOT = new TextEncoder().encode(".          ");
const DOTDOT = new TextEncoder().encode("..         ");

const fail = (code: ErrorCode, message: string): never => {
  throw new ZkguestError(code, message);
};

/** A file write under way (writeFile, FileWriter): where it goes, and the new content's clusters so far. */
interface PendingWrite {
  readonly path: string;
  readonly comps: readonly Component[];
  readonly parents: Parents;
  /** The file's slot in parents.dir, if it exists. */
  readonly existing: number | undefined;
  /** The existing file's chain (freed after the commit, when overwritten). */
  readonly oldChain: number[];
  /** Clusters the missing directories and a new entry's slot take. */
  readonly dirClusters: number;
  /** Files and directories the write adds. */
  readonly entries: number;
  readonly chain: number[];
  size: number;
}

/** Where an entry lives: its directory and slot. */
interface Place {
  readonly dir: Directory;
  readonly slot: number;
}

/** The deepest existing directory on the way to a path's last component, and how many components it covers. */
interface Parents {
  readonly dir: Directory;
  readonly depth: number;
}

/**
 * A FAT-16 volume opened for reading, or for reading and writing. Every method is synchronous.
 * Failures throw ZkguestError with one of the protocol's codes and a message naming the cause.
 *
 * Writes follow the crash-safe order: new data, then the FAT (every copy), then the directory
 * entry; a removal marks the entry deleted before freeing its clusters; an overwrite writes a
 * new chain and switches the entry to it (copy-on-write). A crash leaves at worst lost clusters,
 * which the next writable open reclaims.
 */
export class Volume {
  private readonly dirs = new Map<number, Directory>();
  private readonly dirtyDirs = new Set<Directory>();
  private pendingFrees: number[][] = [];
  private pendingChanges = 0;
  /** Whether something was written since the last fsync (so a barrier is needed). */
  private unsynced = false;
  private counts?: { files: number; directories: number };
  private closed = false;
  /** Set when a write failed half-way: the in-memory state can no longer be trusted. */
  private failure?: ZkguestError;
  /** The FileWriter under way: no other change until it finishes or aborts. */
  private writer: PendingWrite | undefined;
  /** Counts the changes, so that readChunks notices one made between its chunks. */
  private changes = 0;
  private readonly cleanAtOpen: boolean;
  private checkedAtOpen = false;

  private constructor(
    private readonly mount: Mount,
    /** The image file, when the volume opened it (and so closes it). */
    private readonly file: FileBlockDevice | undefined,
    readonly readOnly: boolean,
    private readonly options: OpenOptions,
  ) {
    this.cleanAtOpen = !mount.boot.dirty && (mount.fat.get(1) & FAT1_CLEAN) !== 0;
  }

  /**
   * Opens an image file (a bare FAT-16 volume, or an MBR image with a FAT-16 partition) or a
   * BlockDevice. Opening for writing first checks the whole volume and refuses one whose damage
   * writing could spread (`corrupt_volume`); it then sets the dirty flags, reclaims lost clusters
   * a crash may have left, and makes the FAT copies identical again. The check is skipped for an
   * image file this process closed cleanly and nobody has written since (see verified.ts).
   */
  static open(target: string | BlockDevice, options: OpenOptions = {}): Volume {
    const readOnly = options.readOnly ?? false;
    const file = typeof target === "string" ? FileBlockDevice.open(target, readOnly) : undefined;
    const device = file ?? (target as BlockDevice);
    try {
      const volume = new Volume(orThrow(Mount.open(device, true)), file, readOnly, options);
      if (!readOnly) volume.beginWriting();
      return volume;
    } catch (err) {
      file?.close();
      throw hostError(err, "opening the volume");
    }
  }

  private beginWriting(): void {
    const { mount } = this;
    const { fat } = mount;
    const known = this.file && takeVerified(this.file);
    if (known && this.cleanAtOpen && mount.fatDifferences.length === 0) this.counts = { ...known };
    else this.checkAndRepair();
    // Mark the volume in use before changing anything else.
    const bootByte = mount.readSector(0)[DIRTY_BYTE]!;
    mount.device.write(DIRTY_BYTE, Uint8Array.of(bootByte | 1));
    fat.set(1, fat.get(1) & ~FAT1_CLEAN);
    mount.writeFat(() => this.sync());
    this.sync();
  }

  /** Walks the whole volume: refuses damage writing could spread, and repairs in the FAT what an interrupted writer leaves. */
  private checkAndRepair(): void {
    const { mount } = this;
    const { fat } = mount;
    const scan = scanVolume(mount);
    const blocking = scan.problems.filter((p) => p.blocksWriting);
    if (blocking.length > 0) {
      const first = blocking[0]!;
      const more = blocking.length > 1 ? ` (and ${fmt(blocking.length - 1)} more problems)` : "";
      fail("corrupt_volume", `cannot write to this volume: ${first.path ? `${first.path}: ` : ""}${first.message}${more}`);
    }
    this.counts = { files: scan.files, directories: scan.directories };
    this.checkedAtOpen = true;
    // The entries are untouched: these are written with the dirty flag, after it is set.
    for (const c of mount.fatDifferences) fat.markDirty(c);
    for (const chain of scan.overlongChains) fat.set(chain.lastKept, FAT_EOC);
    fat.release(scan.lostClusters);
  }

  /** The volume's geometry and identity. */
  info(): VolumeInfo {
    this.ensureOpen();
    const { boot, layout, window } = this.mount;
    const serial = boot.serial;
    return {
      ...(boot.label !== undefined ? { label: boot.label } : {}),
      ...(serial !== undefined ? { serial: `${hex4(serial >>> 16)}-${hex4(serial & 0xffff)}` } : {}),
      volumeBytes: layout.volumeBytes,
      bytesPerSector: layout.bytesPerSector,
      sectorsPerCluster: layout.sectorsPerCluster,
      clusterBytes: layout.clusterBytes,
      clusterCount: layout.clusterCount,
      ...(window.partition !== undefined ? { partition: window.partition } : {}),
      offset: window.offset,
      cleanlyClosed: this.cleanAtOpen,
      readOnly: this.readOnly,
      checkedAtOpen: this.checkedAtOpen,
    };
  }

  /** Free and used space, and the number of files and directories (counted once on a read-only volume). */
  usage(): Usage {
    this.ensureOpen();
    const { layout, fat } = this.mount;
    this.counts ??= (({ files, directories }) => ({ files, directories }))(scanVolume(this.mount));
    const cb = layout.clusterBytes;
    return {
      totalBytes: layout.clusterCount * cb,
      usedBytes: (layout.clusterCount - fat.freeCount) * cb,
      freeBytes: fat.freeCount * cb,
      clusterBytes: cb,
      files: this.counts.files,
      directories: this.counts.directories,
      ...(this.options.quota ? { quota: this.options.quota } : {}),
    };
  }

  stat(path: string): Stat {
    this.ensureOpen();
    const comps = orThrow(parsePath(path));
    if (comps.length === 0) return ROOT_STAT;
    const place = this.find(comps, path);
    return this.statOf(place);
  }

  /** The directory's files and subdirectories, in directory order, without '.' and '..'. */
  list(path = "/"): Stat[] {
    this.ensureOpen();
    const comps = orThrow(parsePath(path));
    const dir = this.directoryAt(comps, comps.length, path);
    return Array.from(dir.liveSlots(), (slot) => this.statOf({ dir, slot }));
  }

  /**
   * Reads a file, or `length` bytes of it from `offset`; reading past the end gives fewer bytes.
   * The chain is walked (and checked) before anything is allocated, so a damaged size cannot
   * make it allocate more than the clusters that really back it.
   */
  readFile(path: string, range: { offset?: number; length?: number } = {}): Uint8Array {
    this.ensureOpen();
    const offset = range.offset ?? 0;
    const length = range.length ?? Infinity;
    if (!Number.isSafeInteger(offset) || offset < 0) fail("invalid_state", `read offset ${offset} is not a non-negative integer`);
    if (length !== Infinity && (!Number.isSafeInteger(length) || length < 0)) fail("invalid_state", `read length ${length} is not a non-negative integer`);
    const file = this.fileEntry(path);
    const start = Math.min(offset, file.size);
    const end = Math.min(file.size, start + length);
    if (end <= start) return new Uint8Array(0);
    const cb = this.mount.layout.clusterBytes;
    const chain = this.dataChain(path, file, end);
    const out = new Uint8Array(end - start);
    this.mount.readClusters(chain.slice(Math.floor(start / cb)), start % cb, out);
    return out;
  }

  /**
   * A file's content in chunks of at most `chunkBytes` (rounded down to whole clusters), each
   * read when it is asked for: for files too large to hold whole. Every chunk is a view of one
   * buffer that the next chunk reuses (copy it to keep it). The chain is walked and checked
   * before the first chunk, as readFile does; changing the volume while the chunks are read
   * makes the next one fail with `invalid_state`.
   */
  readChunks(path: string, chunkBytes = CHUNK_BYTES): Iterable<Uint8Array> {
    this.ensureOpen();
    const file = this.fileEntry(path);
    const chain = this.dataChain(path, file, file.size);
    const cb = this.mount.layout.clusterBytes;
    const changes = this.changes;
    const stillValid = (): void => {
      this.ensureOpen();
      if (this.changes !== changes) fail("invalid_state", `${path}: the volume changed while the file was being read`);
    };
    const { mount } = this;
    return {
      *[Symbol.iterator]() {
        const buffer = new Uint8Array(Math.min(file.size, Math.max(1, Math.floor(chunkBytes / cb)) * cb));
        const pieces = mount.readPieces(chain, file.size, buffer);
        // Checked before each read: a change in between may have freed and reused the clusters.
        for (stillValid(); ; stillValid()) {
          const next = pieces.next();
          if (next.done) return;
          yield next.value;
        }
      },
    };
  }

  /**
   * Writes a file, creating missing parent directories. `overwrite` (the default) replaces the
   * content atomically by copy-on-write: after a crash the old or the new content, never a mix.
   * Returns the file's Stat after the write.
   */
  writeFile(path: string, data: Uint8Array | string, mode: WriteMode = "overwrite"): Stat {
    this.ensureWritable();
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    const pending = this.beginWrite(path, mode);
    if (mode === "append" && pending.existing !== undefined) return this.appendExisting(pending, bytes);
    try {
      this.putData(pending, bytes);
    } catch (err) {
      this.dropData(pending);
      throw err;
    }
    return this.finishWrite(pending);
  }

  /**
   * Writes a file whose content comes in pieces (`write`), without holding it whole: a 512 MiB
   * file from a stream, say. The new content goes to free clusters as it comes, a cluster-aligned
   * run per system call, and becomes the file's only at `finish()`, atomically as writeFile's
   * (`create` fails if the file exists; `overwrite` is copy-on-write). Space and quota are
   * checked as the content grows; a failed `write` drops what was written. Until `finish()` or
   * `abort()`, the volume refuses other changes (`invalid_state`); closing it aborts the writer.
   */
  createWriter(path: string, mode: "create" | "overwrite" = "overwrite"): FileWriter {
    this.ensureWritable();
    const pending = this.beginWrite(path, mode);
    this.writer = pending;
    const cb = this.mount.layout.clusterBytes;
    // Whole clusters go straight from the caller's bytes; pieces smaller than a cluster are
    // gathered (up to CHUNK_BYTES), so many small writes do not make as many system calls.
    let staging: Uint8Array | undefined;
    let staged = 0;
    const active = (): void => {
      this.ensureOpen();
      if (this.writer !== pending) fail("invalid_state", `the writer of ${path} was finished or aborted`);
    };
    const abort = (): void => {
      if (this.writer !== pending) return;
      this.writer = undefined;
      this.dropData(pending);
    };
    const guarded = <T>(f: () => T): T => {
      active();
      try {
        return f();
      } catch (err) {
        abort();
        throw err;
      }
    };
    return {
      write: (data) =>
        guarded(() => {
          for (let at = 0; at < data.length; ) {
            if (staged === 0 && data.length - at >= cb) {
              const whole = data.length - at - ((data.length - at) % cb);
              this.putData(pending, data.subarray(at, at + whole));
              at += whole;
              continue;
            }
            staging ??= new Uint8Array(CHUNK_BYTES);
            const take = Math.min(CHUNK_BYTES - staged, data.length - at);
            staging.set(data.subarray(at, at + take), staged);
            staged += take;
            at += take;
            if (staged === CHUNK_BYTES) {
              this.putData(pending, staging);
              staged = 0;
            }
          }
        }),
      finish: () =>
        guarded(() => {
          if (staged > 0) this.putData(pending, staging!.subarray(0, staged));
          this.writer = undefined;
          return this.finishWrite(pending);
        }),
      abort,
    };
  }

  /** Appends to a file, creating it (and its parents) if missing. */
  appendFile(path: string, data: Uint8Array | string): Stat {
    return this.writeFile(path, data, "append");
  }

  /**
   * Makes a directory. With `parents`, like `mkdir -p`: missing ancestors are made too, and an
   * existing directory is not an error.
   */
  mkdir(path: string, options: { parents?: boolean } = {}): void {
    this.ensureWritable();
    const parentsToo = options.parents ?? false;
    const comps = orThrow(parsePath(path));
    if (comps.length === 0) {
      if (parentsToo) return;
      fail("already_exists", "/ (the root directory) already exists");
    }
    const last = comps[comps.length - 1]!;
    const parents = this.existingParents(comps, path);
    if (parents.depth < comps.length - 1 && !parentsToo) {
      fail("not_found", `${path}: parent directory ${joinPath(comps.slice(0, parents.depth + 1))} does not exist (use parents to create it)`);
    }
    if (parents.depth === comps.length - 1) {
      const slot = parents.dir.lookup(last.key);
      if (slot !== undefined) {
        const isDir = (attrOf(parents.dir.data, parents.dir.offset(slot)) & ATTR_DIRECTORY) !== 0;
        if (isDir && parentsToo) return;
        fail("already_exists", `${path} already exists${isDir ? "" : " (as a file)"}`);
      }
    }
    const missing = comps.length - parents.depth;
    this.reserve(() => `making directory ${path}`, missing + this.slotCost(parents.dir, path), 0, missing);
    this.mutate(() => {
      const at = this.timestamp();
      let dir = parents.dir;
      for (const comp of comps.slice(parents.depth)) dir = this.createDirectory(dir, comp, at);
      this.changed();
    });
  }

  /** Removes a file or an empty directory. */
  remove(path: string): void {
    this.ensureWritable();
    const comps = orThrow(parsePath(path));
    if (comps.length === 0) fail("invalid_path", "/ (the root directory) cannot be removed");
    const { dir, slot } = this.find(comps, path);
    const b = dir.data;
    const o = dir.offset(slot);
    const first = firstClusterOf(b, o);
    const isDir = (attrOf(b, o) & ATTR_DIRECTORY) !== 0;
    let chain: number[];
    let child: Directory | undefined;
    if (isDir) {
      child = this.directory(first, path);
      if (child.entryCount > 0) fail("directory_not_empty", `${path} is not empty (${fmt(child.entryCount)} entries)`);
      chain = child.clusters;
    } else {
      chain = orThrow(within(path, this.chainOf(first)));
    }
    this.mutate(() => {
      // The entry goes first; its clusters are freed only once that is on disk (in the commit).
      dir.remove(slot);
      this.dirtyDirs.add(dir);
      this.pendingFrees.push(chain);
      if (child) {
        this.dirs.delete(first);
        this.dirtyDirs.delete(child);
        this.counts!.directories--;
      } else this.counts!.files--;
      this.changed();
    });
  }

  /**
   * Renames or moves a file or directory to `to`, whose parent must exist and which must not.
   * A move between directories removes the old entry (committed) before adding the new one: a
   * crash in between loses the file to lost clusters, never leaves two entries sharing them.
   */
  rename(from: string, to: string): void {
    this.ensureWritable();
    const src = orThrow(parsePath(from));
    const dst = orThrow(parsePath(to));
    if (src.length === 0 || dst.length === 0) fail("invalid_path", "the root directory cannot be moved or replaced");
    const { dir: srcDir, slot: srcSlot } = this.find(src, from);
    const dstDir = this.directoryAt(dst, dst.length - 1, to);
    const name = dst[dst.length - 1]!;
    const taken = dstDir.lookup(name.key);
    if (taken === srcSlot && dstDir === srcDir) return; // the same entry (names are case-insensitive)
    if (taken !== undefined) fail("already_exists", `${to} already exists`);
    const entry = srcDir.data.slice(srcDir.offset(srcSlot), srcDir.offset(srcSlot) + ENTRY_BYTES);
    const isDir = (attrOf(entry, 0) & ATTR_DIRECTORY) !== 0;
    if (isDir && dst.length > src.length && src.every((c, i) => c.key === dst[i]!.key)) {
      fail("invalid_path", `cannot move ${from} into itself (${to})`);
    }
    if (dstDir === srcDir) {
      this.mutate(() => {
        srcDir.rename(srcSlot, name.name);
        this.dirtyDirs.add(srcDir);
        this.changed();
      });
      return;
    }
    this.reserve(() => `moving ${from} to ${to}`, this.slotCost(dstDir, to), 0, 0);
    this.mutate(() => {
      this.ensureSlot(dstDir);
      srcDir.remove(srcSlot);
      this.dirtyDirs.add(srcDir);
      this.commit(true);
      if (isDir) {
        const moved = this.directory(firstClusterOf(entry, 0), from);
        if (moved.slotCount > 1 && isDotDot(moved.data, moved.offset(1))) {
          moved.update(1, (b, o) => setCluster(b, o, dstDir.firstCluster));
          this.dirtyDirs.add(moved);
        }
      }
      dstDir.addCopy(entry, name.name);
      this.dirtyDirs.add(dstDir);
      this.changed();
    });
  }

  /** Commits pending changes now (in batch mode; in fsync mode they are already committed). */
  flush(): void {
    this.ensureWritable();
    this.mutate(() => this.commit(true));
  }

  /** Commits, clears the dirty flags, and closes the image. Safe to call twice. */
  close(): void {
    if (this.closed) return;
    try {
      if (!this.readOnly && !this.failure) {
        if (this.writer) this.dropData(this.writer);
        this.writer = undefined;
        this.commit(true);
        const { mount } = this;
        mount.fat.set(1, mount.fat.get(1) | FAT1_CLEAN);
        mount.writeFat(() => this.sync());
        const bootByte = mount.readSector(0)[DIRTY_BYTE]!;
        mount.device.write(DIRTY_BYTE, Uint8Array.of(bootByte & ~1));
        this.sync();
        if (this.file) rememberVerified(this.file, this.counts!);
      }
    } catch (err) {
      throw hostError(err, "closing the volume");
    } finally {
      this.closed = true;
      this.file?.close();
    }
  }

  // ---- internals ----

  private ensureOpen(): void {
    if (this.closed) fail("invalid_state", "the volume is closed");
    if (this.failure) fail("invalid_state", `an earlier write failed (${this.failure.message}); reopen the volume`);
  }

  private ensureWritable(): void {
    this.ensureOpen();
    if (this.readOnly) fail("invalid_state", "the volume is open read-only");
    if (this.writer) fail("invalid_state", `a writer of ${this.writer.path} is open: finish or abort it first`);
  }

  /** Runs the part of an operation that changes state; if it fails half-way, the volume refuses further use. */
  private mutate<T>(change: () => T): T {
    try {
      return change();
    } catch (err) {
      this.failure = hostError(err, "writing the volume");
      throw this.failure;
    }
  }

  private timestamp(): DosTime {
    return toDosTime(this.options.now?.() ?? new Date(), this.options.timeZone);
  }

  /** Counts a change and commits it unless batching. */
  private changed(): void {
    this.changes++;
    this.pendingChanges++;
    this.commit(false);
  }

  /**
   * Writes what is pending in the crash-safe order: (data was written already) the FAT, every
   * copy; barrier; the directory sectors; barrier; then the clusters of removed or replaced
   * entries are freed, which is safe only once no entry on disk points to them.
   */
  private commit(force: boolean): void {
    if (!force && this.options.durability === "batch" && this.pendingChanges < BATCH_CHANGES) return;
    this.pendingChanges = 0;
    const { mount } = this;
    if (mount.writeFat(() => this.barrier())) this.unsynced = true;
    if (this.dirtyDirs.size > 0) {
      this.barrier();
      for (const dir of this.dirtyDirs) mount.writeDirectory(dir);
      this.dirtyDirs.clear();
      this.unsynced = true;
      this.barrier();
    }
    if (this.pendingFrees.length > 0) {
      for (const chain of this.pendingFrees) mount.fat.release(chain);
      this.pendingFrees = [];
      // Not synced here: if it is lost, the clusters are merely lost, and reclaimed at the next open.
      mount.writeFat(() => this.barrier());
      this.unsynced = true;
    }
  }

  /** Orders what was written before against what is written after (an fsync, if anything is unsynced). */
  private barrier(): void {
    if (!this.unsynced) return;
    this.sync();
    this.unsynced = false;
  }

  /** fsync, except in "ordered" durability, which relies on the kernel keeping the order of writes. */
  private sync(): void {
    if (this.options.durability !== "ordered") this.mount.device.sync();
  }

  /** Allocates the clusters for `length` bytes (the caller reserved them). */
  private allocate(length: number): number[] {
    const n = Math.ceil(length / this.mount.layout.clusterBytes);
    if (n === 0) return [];
    const chain = this.mount.fat.allocate(n);
    if (!chain) throw new ZkguestError("internal", `allocating ${n} reserved clusters failed`);
    this.unsynced = true;
    return chain;
  }

  /**
   * Checks that `clusters` more clusters (of which `replaced` are freed afterwards) and
   * `entries` more files or directories fit the free space and the quota.
   */
  private reserve(doing: () => string, clusters: number, replaced: number, entries: number, allocated = 0): void {
    const { layout, fat } = this.mount;
    const cb = layout.clusterBytes;
    const quota = this.options.quota ?? {};
    const counts = this.counts!;
    // `allocated`: clusters this write took already (a FileWriter's earlier parts); the quota
    // compares the whole write against the space in use before it began.
    const usedBefore = (layout.clusterCount - fat.freeCount - allocated) * cb;
    const usedAfter = usedBefore + (allocated + clusters - replaced) * cb;
    if (quota.bytes !== undefined && usedAfter > quota.bytes && usedAfter > usedBefore) {
      fail("quota_exceeded", `${doing()} would use ${fmt(usedAfter)} bytes, above the volume's quota of ${fmt(quota.bytes)} bytes`);
    }
    const entriesAfter = counts.files + counts.directories + entries;
    if (quota.files !== undefined && entries > 0 && entriesAfter > quota.files) {
      fail("quota_exceeded", `${doing()} would make ${fmt(entriesAfter)} files and directories, above the volume's quota of ${fmt(quota.files)}`);
    }
    if (clusters > fat.freeCount) {
      const cow = replaced > 0 ? " (copy-on-write keeps the old content until the new one is complete)" : "";
      fail("no_space", `${doing()} needs ${fmt(clusters)} free clusters of ${fmt(cb)} bytes${cow}; the volume has ${fmt(fat.freeCount)}`);
    }
  }

  /** 1 if adding an entry to `dir` needs a new cluster, 0 if it has a free slot; directory_full if it cannot grow. */
  private slotCost(dir: Directory, path: string): number {
    if (dir.hasFreeSlot()) return 0;
    const cb = this.mount.layout.clusterBytes;
    if (dir.isRoot) fail("directory_full", `${path}: the root directory's ${fmt(dir.slotCount)} entries are all used (the FAT-16 root cannot grow)`);
    if (!dir.canGrow(cb)) fail("directory_full", `${path}: the directory has the FAT maximum of 65,536 entries`);
    return 1;
  }

  /** Grows `dir` by a zeroed cluster if it has no free slot (slotCost reserved it). */
  private ensureSlot(dir: Directory): void {
    if (dir.hasFreeSlot()) return;
    const fresh = this.allocate(this.mount.layout.clusterBytes);
    // Zeroed on disk before the FAT links it, so the directory never shows stale bytes as entries.
    this.mount.writeClusters(fresh, new Uint8Array(0));
    this.mount.fat.link(dir.clusters[dir.clusters.length - 1]!, fresh[0]!);
    dir.grow(fresh[0]!, this.mount.layout.clusterBytes);
  }

  /**
   * Checks a write of the file at `path` and reserves what it needs besides the content: the
   * missing parent directories and, for a new file, a directory slot.
   */
  private beginWrite(path: string, mode: WriteMode): PendingWrite {
    const comps = orThrow(parsePath(path));
    if (comps.length === 0) fail("is_a_directory", "/ is the root directory, not a file");
    const parents = this.existingParents(comps, path);
    const missingDirs = comps.length - 1 - parents.depth;
    const existing = missingDirs === 0 ? parents.dir.lookup(comps[comps.length - 1]!.key) : undefined;
    let oldChain: number[] = [];
    if (existing !== undefined) {
      const b = parents.dir.data;
      const o = parents.dir.offset(existing);
      if (attrOf(b, o) & ATTR_DIRECTORY) fail("is_a_directory", `${path} is a directory, not a file`);
      if (mode === "create") fail("already_exists", `${path} already exists`);
      oldChain = orThrow(within(path, this.chainOf(firstClusterOf(b, o))));
    }
    const pending: PendingWrite = {
      path,
      comps,
      parents,
      existing,
      oldChain,
      dirClusters: missingDirs + (existing === undefined ? this.slotCost(parents.dir, path) : 0),
      entries: missingDirs + (existing === undefined ? 1 : 0),
      chain: [],
      size: 0,
    };
    if (mode !== "append" || existing === undefined) this.reserveFor(pending, 0);
    return pending;
  }

  /** Checks that `clusters` more of the new content (and what the write needs besides) fit the free space and the quota. */
  private reserveFor(p: PendingWrite, clusters: number, bytes = 0): void {
    const replaced = p.existing === undefined ? 0 : p.oldChain.length;
    this.reserve(() => `writing ${fmt(p.size + bytes)} bytes to ${p.path}`, p.dirClusters + clusters, replaced, p.entries, p.chain.length);
  }

  /** Writes the next part of a pending write's content to new clusters; every part but the last is whole clusters. */
  private putData(p: PendingWrite, bytes: Uint8Array): void {
    const cb = this.mount.layout.clusterBytes;
    if (p.size % cb !== 0) throw new ZkguestError("internal", `${p.path}: content added after a part that did not end on a cluster`);
    if (p.size + bytes.length > 0xffffffff) fail("limit_exceeded", `${p.path}: ${fmt(p.size + bytes.length)} bytes is above the FAT limit of 4 GiB - 1 per file`);
    this.reserveFor(p, Math.ceil(bytes.length / cb), bytes.length);
    if (bytes.length === 0) return;
    this.mutate(() => {
      const more = this.allocate(bytes.length);
      this.mount.writeClusters(more, bytes);
      // Linked in memory only: no entry leads to these clusters until finishWrite commits.
      const last = p.chain[p.chain.length - 1];
      if (last !== undefined) this.mount.fat.set(last, more[0]!);
      for (const c of more) p.chain.push(c);
      p.size += bytes.length;
    });
  }

  /** Gives the clusters of a pending write back (nothing on disk leads to them). */
  private dropData(p: PendingWrite): void {
    this.mount.fat.release(p.chain);
    p.chain.length = 0;
  }

  /** Makes the written content the file's: the missing directories, then the entry; the old chain is freed after the commit. */
  private finishWrite(p: PendingWrite): Stat {
    return this.mutate(() => {
      const at = this.timestamp();
      let dir = p.parents.dir;
      for (const comp of p.comps.slice(p.parents.depth, -1)) dir = this.createDirectory(dir, comp, at);
      const first = p.chain[0] ?? 0;
      let slot: number;
      if (p.existing === undefined) {
        this.ensureSlot(dir);
        slot = dir.add({ name: p.comps[p.comps.length - 1]!.name, attr: ATTR_ARCHIVE, cluster: first, size: p.size, at });
        this.counts!.files++;
      } else {
        slot = p.existing;
        dir.update(slot, (b, o) => {
          setCluster(b, o, first);
          setSize(b, o, p.size);
          setModified(b, o, at);
        });
        this.pendingFrees.push(p.oldChain);
      }
      this.dirtyDirs.add(dir);
      this.changed();
      return this.statOf({ dir, slot });
    });
  }

  /** Appends to an existing file in place (appendTo). */
  private appendExisting(p: PendingWrite, bytes: Uint8Array): Stat {
    const dir = p.parents.dir;
    const slot = p.existing!;
    const size = sizeOf(dir.data, dir.offset(slot));
    if (size + bytes.length > 0xffffffff) fail("limit_exceeded", `${p.path}: ${fmt(size + bytes.length)} bytes is above the FAT limit of 4 GiB - 1 per file`);
    const cb = this.mount.layout.clusterBytes;
    const newClusters = Math.ceil((size + bytes.length) / cb) - Math.ceil(size / cb);
    this.reserve(() => `writing ${fmt(bytes.length)} bytes to ${p.path}`, newClusters, 0, 0);
    return this.mutate(() => {
      this.appendTo(dir, slot, p.oldChain, bytes, this.timestamp());
      this.dirtyDirs.add(dir);
      this.changed();
      return this.statOf({ dir, slot });
    });
  }

  private createDirectory(parent: Directory, comp: Component, at: DosTime): Directory {
    const { layout, device } = this.mount;
    const [cluster] = this.allocate(layout.clusterBytes);
    const content = new Uint8Array(layout.clusterBytes);
    writeEntry(content, 0, { name: DOT, attr: ATTR_DIRECTORY, cluster: cluster!, size: 0, at });
    writeEntry(content, ENTRY_BYTES, { name: DOTDOT, attr: ATTR_DIRECTORY, cluster: parent.firstCluster, size: 0, at });
    // Written whole before anything points to it.
    device.write(this.mount.clusterOffset(cluster!), content);
    this.ensureSlot(parent);
    parent.add({ name: comp.name, attr: ATTR_DIRECTORY, cluster: cluster!, size: 0, at });
    this.dirtyDirs.add(parent);
    const dir = new Directory(cluster!, [cluster!], content, layout.bytesPerSector);
    this.dirs.set(cluster!, dir);
    this.counts!.directories++;
    return dir;
  }

  /**
   * Appends in place: the slack of the last cluster is filled (beyond the old size, so the old
   * content is untouched), new clusters are written and linked, and the size is updated last.
   * A crash before the entry is written leaves a chain longer than the size, with the old
   * content intact; the next writable open cuts it (the chain of a file opened for writing is
   * exactly as long as its size needs).
   */
  private appendTo(dir: Directory, slot: number, chain: number[], bytes: Uint8Array, at: DosTime): void {
    const b = dir.data;
    const o = dir.offset(slot);
    const size = sizeOf(b, o);
    const cb = this.mount.layout.clusterBytes;
    const keep = Math.ceil(size / cb);
    const used = size % cb;
    let fill = 0;
    if (used > 0) {
      fill = Math.min(cb - used, bytes.length);
      this.mount.device.write(this.mount.clusterOffset(chain[keep - 1]!) + used, bytes.subarray(0, fill));
      this.unsynced = true;
    }
    const fresh = this.allocate(bytes.length - fill);
    this.mount.writeClusters(fresh, bytes, fill);
    if (fresh.length > 0 && keep > 0) this.mount.fat.link(chain[keep - 1]!, fresh[0]!);
    dir.update(slot, (eb, eo) => {
      if (keep === 0) setCluster(eb, eo, fresh[0] ?? 0);
      setSize(eb, eo, size + bytes.length);
      setModified(eb, eo, at);
    });
  }

  /** The file at `path`: its size and first cluster; is_a_directory for a directory. */
  private fileEntry(path: string): { size: number; first: number } {
    const comps = orThrow(parsePath(path));
    if (comps.length === 0) fail("is_a_directory", "/ is the root directory, not a file");
    const { dir, slot } = this.find(comps, path);
    const b = dir.data;
    const o = dir.offset(slot);
    if (attrOf(b, o) & ATTR_DIRECTORY) fail("is_a_directory", `${path} is a directory, not a file`);
    return { size: sizeOf(b, o), first: firstClusterOf(b, o) };
  }

  /** The clusters holding a file's first `end` bytes, walked and checked: corrupt_volume if the chain is shorter than its size says. */
  private dataChain(path: string, file: { size: number; first: number }, end: number): number[] {
    const cb = this.mount.layout.clusterBytes;
    const need = Math.ceil(end / cb);
    const chain = orThrow(within(path, this.chainOf(file.first, need)));
    if (chain.length < need) {
      fail("corrupt_volume", `${path}: size is ${fmt(file.size)} bytes but the cluster chain ends after ${fmt(chain.length * cb)}`);
    }
    return chain;
  }

  /** The chain starting at `first` (empty for cluster 0), at most `upTo` clusters. */
  private chainOf(first: number, upTo = Infinity): Result<number[]> {
    return first === 0 ? ok([]) : this.mount.fat.chain(first, upTo);
  }

  private statOf({ dir, slot }: Place): Stat {
    const b = dir.data;
    const o = dir.offset(slot);
    const isDir = (attrOf(b, o) & ATTR_DIRECTORY) !== 0;
    const { date, time } = modifiedOf(b, o);
    return { name: displayName(b, o), type: isDir ? "dir" : "file", size: isDir ? 0 : sizeOf(b, o), modified: formatDosTime(date, time) };
  }

  /** The directory with first cluster `first` (0: the root), from the cache or the disk. */
  private directory(first: number, where: string): Directory {
    let dir = this.dirs.get(first);
    if (!dir) {
      dir = orThrow(within(where, this.mount.readDirectory(first)));
      this.dirs.set(first, dir);
    }
    return dir;
  }

  /** The directory reached by the first `depth` components; each must exist and be a directory. */
  private directoryAt(comps: readonly Component[], depth: number, path: string): Directory {
    let dir = this.directory(0, "/");
    for (let i = 0; i < depth; i++) {
      const comp = comps[i]!;
      const slot = dir.lookup(comp.key);
      const here = joinPath(comps.slice(0, i));
      if (slot === undefined) fail("not_found", `${path}: '${comp.text}' does not exist in ${here}`);
      dir = this.subdirectory(dir, slot!, comps, i, path);
    }
    return dir;
  }

  private subdirectory(dir: Directory, slot: number, comps: readonly Component[], i: number, path: string): Directory {
    const b = dir.data;
    const o = dir.offset(slot);
    if (!(attrOf(b, o) & ATTR_DIRECTORY)) fail("not_a_directory", `${path}: '${comps[i]!.text}' is a file, not a directory`);
    const first = firstClusterOf(b, o);
    const where = joinPath(comps.slice(0, i + 1));
    if (first === 0) fail("corrupt_volume", `${where}: directory entry has no cluster`);
    return this.directory(first, where);
  }

  /** The entry at the path (not the root). */
  private find(comps: readonly Component[], path: string): Place {
    const dir = this.directoryAt(comps, comps.length - 1, path);
    const last = comps[comps.length - 1]!;
    const slot = dir.lookup(last.key);
    if (slot === undefined) fail("not_found", `${path}: '${last.text}' does not exist in ${joinPath(comps.slice(0, -1))}`);
    return { dir, slot: slot! };
  }

  /** Walks the parents of the last component as far as they exist. */
  private existingParents(comps: readonly Component[], path: string): Parents {
    let dir = this.directory(0, "/");
    let depth = 0;
    for (; depth < comps.length - 1; depth++) {
      const slot = dir.lookup(comps[depth]!.key);
      if (slot === undefined) break;
      dir = this.subdirectory(dir, slot, comps, depth, path);
    }
    return { dir, depth };
  }
}

const hex4 = (n: number): string => n.toString(16).toUpperCase().padStart(4, "0");
