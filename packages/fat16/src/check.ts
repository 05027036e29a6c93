import { FileBlockDevice, type BlockDevice } from "./block-device.js";
import {
  attrOf,
  ATTR_DIRECTORY,
  ENTRY_BYTES,
  firstClusterOf,
  highClusterOf,
  isDotDot,
  sizeOf,
  slotKind,
} from "./dir-entry.js";
import { FAT1_CLEAN, isEndOfChain } from "./fat.js";
import { Mount } from "./mount.js";
import { fmt, isLeft, orThrow } from "./result.js";
import { displayName, nameKey, storedNameFlaw } from "./short-name.js";

/** Something wrong with a volume, found by the check. */
export interface Problem {
  /** The file or directory concerned, or "" for the volume as a whole. */
  readonly path: string;
  readonly message: string;
  /**
   * Whether writing could spread the damage (a cross-link, a cycle, a bad pointer...): opening
   * for writing refuses such a volume. The rest (lost clusters, a dirty flag, cosmetic flaws) is
   * what a crash or another tool can leave, and is tolerated.
   */
  readonly blocksWriting: boolean;
}

/** A file whose chain goes on past what its size needs: what a crash during an append leaves. */
export interface OverlongChain {
  readonly path: string;
  /** The last cluster the size needs, which becomes the end of the chain; the rest is lost clusters. */
  readonly lastKept: number;
}

export interface ScanResult {
  readonly problems: readonly Problem[];
  readonly files: number;
  readonly directories: number;
  /** Allocated clusters no entry reaches. */
  readonly lostClusters: readonly number[];
  readonly overlongChains: readonly OverlongChain[];
}

/** More than this many problems are summarized in one line: a hostile image can hold millions. */
const MAX_PROBLEMS = 1000;

/**
 * Walks the whole volume from the root and reports what is wrong, including what `fsck.fat -n`
 * does not flag (lower-case bytes in short names, a missing 0x55AA, a FAT[0] that does not match
 * the media byte, live entries after an end-of-directory marker). Every cluster is claimed by at
 * most one entry, which finds cross-links, directory loops and cycles; every walk is bounded by
 * the cluster count; directories are read one at a time.
 */
export function scanVolume(mount: Mount): ScanResult {
  const { fat, boot, layout } = mount;
  const problems: Problem[] = [];
  let dropped = 0;
  const report = (path: string, message: string, blocksWriting: boolean): void => {
    if (problems.length < MAX_PROBLEMS) problems.push({ path, message, blocksWriting });
    else dropped++;
  };

  if (!boot.hasSignature) report("", "boot sector: the 0x55 0xAA signature is missing at bytes 510-511", false);
  if (fat.get(0) !== (0xff00 | boot.media)) {
    report("", `FAT[0] is 0x${fat.get(0).toString(16)}, but the media byte 0x${boot.media.toString(16)} requires 0x${(0xff00 | boot.media).toString(16)}`, false);
  }
  if (boot.dirty || (fat.get(1) & FAT1_CLEAN) === 0) report("", "the volume was not cleanly closed (dirty flag set)", false);
  if (mount.fatDifferences.length > 0) {
    report("", `the FAT copies differ in ${fmt(mount.fatDifferences.length)} entries (first at cluster ${mount.fatDifferences[0]}); the first FAT is used`, false);
  }

  // owner[c] is 1 + the index in `owners` of the entry whose chain holds cluster c.
  const owner = new Int32Array(layout.clusterCount + 2);
  const owners: { path: string; isDir: boolean }[] = [];
  const claim = (clusters: readonly number[], path: string, isDir: boolean): string | undefined => {
    owners.push({ path, isDir });
    const id = owners.length;
    for (const c of clusters) {
      const prior = owner[c]!;
      if (prior !== 0) {
        const other = owners[prior - 1]!;
        return other.isDir && path.startsWith(other.path === "/" ? "/" : other.path + "/")
          ? `directory loop: its cluster ${c} belongs to its ancestor ${other.path}`
          : `cross-linked: cluster ${c} also belongs to ${other.path}`;
      }
      owner[c] = id;
    }
    return undefined;
  };

  let files = 0;
  let directories = 0;
  const overlongChains: OverlongChain[] = [];
  const stack = [{ path: "/", first: 0, parent: 0 }];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    const raw = mount.readDirectoryBytes(dir.first);
    if (isLeft(raw)) {
      report(dir.path, raw.left.message, true);
      continue;
    }
    const bytes = raw.right.bytes;
    const prefix = dir.path === "/" ? "/" : dir.path + "/";
    const seen = new Set<string>();
    let endSlot = -1;
    let afterEndReported = false;
    for (let slot = 0; slot < bytes.length / ENTRY_BYTES; slot++) {
      const o = slot * ENTRY_BYTES;
      const kind = slotKind(bytes, o);
      if (endSlot >= 0) {
        // Everything after the end marker must be zero. A live entry there is damage writing
        // would spread (a new entry moves the marker and reveals it); other bytes are only untidy.
        if (kind === "end") continue;
        if (kind === "file" || kind === "dir") {
          report(dir.path, `slot ${slot} holds the live entry '${displayName(bytes, o)}' after the end-of-directory marker at slot ${endSlot}; readers disagree on whether it exists`, true);
          break;
        }
        if (!afterEndReported) report(dir.path, `slot ${slot} is not zero although it comes after the end-of-directory marker at slot ${endSlot}`, false);
        afterEndReported = true;
        continue;
      }
      if (kind === "end") {
        endSlot = slot;
        continue;
      }
      if (kind === "deleted" || kind === "long-name") continue;
      if (kind === "label") {
        if (dir.first !== 0) report(dir.path, `slot ${slot} is a volume label inside a subdirectory`, false);
        continue;
      }
      if (kind === "dot") {
        if (dir.first === 0) report(dir.path, `slot ${slot}: the root directory has a '.' or '..' entry`, false);
        else {
          const want = isDotDot(bytes, o) ? dir.parent : dir.first;
          if (firstClusterOf(bytes, o) !== want) {
            report(dir.path, `'${isDotDot(bytes, o) ? ".." : "."}' points to cluster ${firstClusterOf(bytes, o)} instead of ${want}`, false);
          }
        }
        continue;
      }
      const path = prefix + displayName(bytes, o);
      const flaw = storedNameFlaw(bytes, o);
      if (flaw) report(path, `short name '${displayName(bytes, o)}' ${flaw}`, false);
      const key = nameKey(bytes, o);
      if (seen.has(key)) report(path, "duplicate name in the same directory", false);
      seen.add(key);
      if (highClusterOf(bytes, o) !== 0) report(path, `high cluster word is ${highClusterOf(bytes, o)}; it must be 0 on FAT-16`, false);
      const first = firstClusterOf(bytes, o);
      const size = sizeOf(bytes, o);
      const isDir = (attrOf(bytes, o) & ATTR_DIRECTORY) !== 0;
      if (isDir) {
        directories++;
        if (size !== 0) report(path, `directory entry has size ${fmt(size)}; directories have size 0`, false);
        const chain = fat.chain(first, mount.maxDirectoryClusters + 1);
        if (isLeft(chain)) report(path, chain.left.message, true);
        else if (chain.right.length > mount.maxDirectoryClusters) report(path, "directory is longer than 65,536 entries", true);
        else {
          const conflict = claim(chain.right, path, true);
          if (conflict) report(path, conflict, true);
          else stack.push({ path, first, parent: dir.first });
        }
        continue;
      }
      files++;
      const need = Math.ceil(size / layout.clusterBytes);
      if (first === 0) {
        if (need > 0) report(path, `size is ${fmt(size)} bytes but the file has no clusters`, true);
        continue;
      }
      if (need === 0) {
        // An empty file with clusters: the entry still points to them, so they are claimed.
        const chain = fat.chain(first);
        if (isLeft(chain)) report(path, chain.left.message, true);
        else {
          report(path, `the file is empty but has ${fmt(chain.right.length)} clusters`, false);
          const conflict = claim(chain.right, path, false);
          if (conflict) report(path, conflict, true);
        }
        continue;
      }
      // Only the clusters the size needs hold data; the walk stops there.
      const chain = fat.chain(first, need);
      if (isLeft(chain)) {
        report(path, chain.left.message, true);
        continue;
      }
      const conflict = claim(chain.right, path, false);
      if (conflict) report(path, conflict, true);
      if (chain.right.length < need) {
        report(path, `size is ${fmt(size)} bytes (${fmt(need)} clusters) but the cluster chain has ${fmt(chain.right.length)}`, true);
        continue;
      }
      const last = chain.right[need - 1]!;
      if (!isEndOfChain(fat.get(last))) {
        // What an interrupted append leaves: the clusters past the size are not the file's
        // (not claimed, so they count as lost), and the chain is cut at the size when writing.
        report(path, `size is ${fmt(size)} bytes (${fmt(need)} clusters) but the cluster chain goes on after cluster ${last}`, false);
        overlongChains.push({ path, lastKept: last });
      }
    }
  }

  const lostClusters = fat.unowned(owner);
  if (lostClusters.length > 0) {
    report("", `${fmt(lostClusters.length)} lost clusters: allocated in the FAT but reached by no entry (first: ${lostClusters[0]})`, false);
  }
  if (dropped > 0) problems.push({ path: "", message: `... and ${fmt(dropped)} more problems`, blocksWriting: problems.some((p) => p.blocksWriting) });
  return { problems, files, directories, lostClusters, overlongChains };
}

/** What `checkVolume` found. */
export interface CheckReport {
  /** Empty when the volume is clean. */
  readonly problems: readonly Problem[];
  readonly files: number;
  readonly directories: number;
  readonly clusters: { readonly total: number; readonly free: number; readonly lost: number };
}

/**
 * Checks a volume without changing it. Throws ZkguestError `corrupt_volume` when the image
 * cannot be read as FAT-16 at all (the CLI's exit 2); otherwise lists every problem found.
 */
export function checkVolume(target: string | BlockDevice): CheckReport {
  const device = typeof target === "string" ? FileBlockDevice.open(target, true) : target;
  try {
    const mount = orThrow(Mount.open(device, false));
    const scan = scanVolume(mount);
    return {
      problems: scan.problems,
      files: scan.files,
      directories: scan.directories,
      clusters: { total: mount.layout.clusterCount, free: mount.fat.freeCount, lost: scan.lostClusters.length },
    };
  } finally {
    if (typeof target === "string") device.close();
  }
}
