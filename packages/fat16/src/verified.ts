import type { FileBlockDevice } from "./block-device.js";

/** The counts a writable volume keeps for its quota, which only a walk of the whole volume gives. */
export interface Counts {
  readonly files: number;
  readonly directories: number;
}

/**
 * Image files this process has verified and closed cleanly, with the version each was left in
 * (module state: each worker thread has its own).
 *
 * Opening for writing walks the whole volume (scanVolume): it refuses damage that writing could
 * spread, reclaims what a crash left, and counts files for the quota. That walk is what makes
 * an open cost grow with the disk's contents, and it is only needed for bytes this process has
 * not seen. A volume that passed it stays that way under the store's own writes: every change is
 * made in the crash-safe order, which never creates a cross-link, a cycle or a bad pointer, and
 * a clean close leaves no lost clusters, over-long chains or differing FAT copies. So when a
 * writable volume closes cleanly, the store marks the file (FileBlockDevice.markVersion: a
 * modification time no write leaves) and remembers the version and the counts here; the next
 * writable open in this process that finds the file at that exact version, clean, with
 * identical FAT copies, takes the counts instead of walking the volume.
 *
 * Why that is safe for a hostile image: what is remembered was either walked by this process
 * or written by it since the walk; a guest only ever changes its disk through the store, so it
 * cannot produce bytes the store did not write. Anything else that writes the file afterwards
 * (mtools, fsck.fat, another process of the store, a restored backup) changes its version, and
 * the next open walks the volume again; a crash (even of this process's writer, whose entry was
 * taken at open) leaves no entry and the dirty flag set. What it relies on, as the store always
 * has: no one else writes the file while a volume has it open for writing.
 */
const remembered = new Map<string, { version: string; counts: Counts }>();
/** Entries are about 100 bytes; past this many the oldest go (they only save a walk). */
const MAX_REMEMBERED = 10_000;

/**
 * The counts remembered for the file, if it is still at the version it was left in. The entry
 * is removed either way: the volume opening it is about to change it.
 */
export function takeVerified(file: FileBlockDevice): Counts | undefined {
  const { file: key, version } = file.version();
  const entry = remembered.get(key);
  if (entry === undefined) return undefined;
  remembered.delete(key);
  return entry.version === version ? entry.counts : undefined;
}

/** Marks the file and remembers its counts; called after a clean close has written everything. */
export function rememberVerified(file: FileBlockDevice, counts: Counts): void {
  const marked = file.markVersion();
  if (marked === undefined) return;
  remembered.delete(marked.file);
  remembered.set(marked.file, { version: marked.version, counts: { files: counts.files, directories: counts.directories } });
  if (remembered.size > MAX_REMEMBERED) remembered.delete(remembered.keys().next().value!);
}
