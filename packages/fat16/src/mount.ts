import { Buffer } from "node:buffer";
import { WindowDevice, type BlockDevice } from "./block-device.js";
import { parseBootSector, parseBootSectorStrict, type BootSector } from "./boot-sector.js";
import { ENTRY_BYTES } from "./dir-entry.js";
import { Directory, MAX_DIR_ENTRIES } from "./directory.js";
import { Fat, type FatRun } from "./fat.js";
import type { Layout } from "./geometry.js";
import { locateVolume, type VolumeWindow } from "./mbr.js";
import { corrupt, fmt, isLeft, ok, type Result } from "./result.js";

/** A run of consecutive clusters: one read or write system call. */
interface ClusterRun {
  readonly first: number;
  readonly count: number;
}

function runsOf(clusters: readonly number[]): ClusterRun[] {
  const runs: ClusterRun[] = [];
  for (let i = 0; i < clusters.length; ) {
    let j = i + 1;
    while (j < clusters.length && clusters[j] === clusters[j - 1]! + 1) j++;
    runs.push({ first: clusters[i]!, count: j - i });
    i = j;
  }
  return runs;
}

/**
 * A FAT-16 volume's validated structure on a device: the boot sector, the FAT in memory, and
 * the arithmetic from clusters and directory sectors to byte positions. Shared by the Volume
 * (reads and writes) and the check (reads only). Everything it reads is bounded by sizes it has
 * validated against the device, never by a size the image merely claims.
 */
export class Mount {
  private constructor(
    readonly device: BlockDevice,
    readonly boot: BootSector,
    readonly fat: Fat,
    /** Clusters whose entry differs between the first FAT and another copy (the first is used). */
    readonly fatDifferences: readonly number[],
    readonly window: VolumeWindow,
  ) {
    this.zeros = new Uint8Array(boot.layout.clusterBytes);
  }

  /** A cluster of zeros, never written to: the padding of partial clusters. */
  private readonly zeros: Uint8Array;

  /**
   * Finds the volume (bare, or an MBR partition), validates its boot sector and loads the
   * first FAT. `strict` refuses a boot sector without its 0x55AA signature (opening does; the
   * check reports it instead).
   */
  static open(image: BlockDevice, strict: boolean): Result<Mount> {
    const sector0 = new Uint8Array(512);
    if (image.byteLength < sector0.length) return corrupt(`image is ${fmt(image.byteLength)} bytes, too short for a boot sector`);
    image.read(0, sector0);
    const where = locateVolume(sector0, image.byteLength);
    if (isLeft(where)) return where;
    const window = where.right;
    const device = window.offset === 0 ? image : new WindowDevice(image, window.offset, window.length);
    if (window.offset !== 0) device.read(0, sector0);
    const parsed = (strict ? parseBootSectorStrict : parseBootSector)(sector0, device.byteLength);
    if (isLeft(parsed)) return parsed;
    const boot = parsed.right;
    const layout = boot.layout;
    // Not zeroed: read() fills them whole or throws. The table takes fatBytes over (Fat.decode).
    const fatBytes = Buffer.allocUnsafeSlow(layout.fatSectorsUsed * layout.bytesPerSector);
    device.read(layout.fatOffsets[0]!, fatBytes);
    const fat = Fat.decode(fatBytes, layout.clusterCount, layout.bytesPerSector);
    const differences: number[] = [];
    const copyBytes = Buffer.allocUnsafeSlow(fatBytes.length);
    for (const offset of layout.fatOffsets.slice(1)) {
      device.read(offset, copyBytes);
      // The copies are almost always identical: one memcmp instead of decoding and comparing entries.
      if (copyBytes.equals(fatBytes)) continue;
      const copy = Fat.decodeEntries(copyBytes, layout.clusterCount + 2);
      for (let c = 0; c < copy.length; c++) if (copy[c] !== fat.get(c)) differences.push(c);
    }
    return ok(new Mount(device, boot, fat, differences, window));
  }

  get layout(): Layout {
    return this.boot.layout;
  }

  clusterOffset(cluster: number): number {
    return this.layout.dataOffset + (cluster - 2) * this.layout.clusterBytes;
  }

  /** The most clusters a directory may have (65,536 entries). */
  get maxDirectoryClusters(): number {
    return Math.ceil((MAX_DIR_ENTRIES * ENTRY_BYTES) / this.layout.clusterBytes);
  }

  /** Reads the root (firstCluster 0) or a subdirectory into memory, with its name index. */
  readDirectory(firstCluster: number): Result<Directory> {
    const raw = this.readDirectoryBytes(firstCluster);
    if (isLeft(raw)) return raw;
    return ok(new Directory(firstCluster, raw.right.clusters, raw.right.bytes, this.layout.bytesPerSector));
  }

  /** A directory's raw bytes: the root's fixed region, or a subdirectory's chain (at most 65,536 entries). */
  readDirectoryBytes(firstCluster: number): Result<{ bytes: Uint8Array; clusters: number[] }> {
    const { layout } = this;
    if (firstCluster === 0) {
      const bytes = new Uint8Array(layout.rootBytes);
      this.device.read(layout.rootOffset, bytes);
      return ok({ bytes, clusters: [] });
    }
    const chain = this.fat.chain(firstCluster, this.maxDirectoryClusters + 1);
    if (isLeft(chain)) return chain;
    if (chain.right.length > this.maxDirectoryClusters) {
      return corrupt(`directory chain from cluster ${firstCluster} is longer than ${fmt(MAX_DIR_ENTRIES)} entries`);
    }
    const bytes = new Uint8Array(chain.right.length * layout.clusterBytes);
    this.readClusters(chain.right, 0, bytes);
    return ok({ bytes, clusters: chain.right });
  }

  /** Fills `into` from the clusters' data, starting `skip` bytes into the first one, a run per read. */
  readClusters(clusters: readonly number[], skip: number, into: Uint8Array): void {
    let filled = 0;
    for (const run of runsOf(clusters)) {
      if (filled >= into.length) break;
      const start = this.clusterOffset(run.first) + (filled === 0 ? skip : 0);
      const runEnd = this.clusterOffset(run.first) + run.count * this.layout.clusterBytes;
      const n = Math.min(runEnd - start, into.length - filled);
      this.device.read(start, into.subarray(filled, filled + n));
      filled += n;
    }
  }

  /**
   * The first `length` bytes of the clusters' data, in pieces of at most `buffer`'s length that
   * do not cross a run's end: a read per piece into `buffer` (reused: each piece is a view of it,
   * valid until the next).
   */
  *readPieces(clusters: readonly number[], length: number, buffer: Uint8Array): Generator<Uint8Array> {
    let left = length;
    for (const run of runsOf(clusters)) {
      let at = this.clusterOffset(run.first);
      const runEnd = at + Math.min(run.count * this.layout.clusterBytes, left);
      while (at < runEnd) {
        const piece = buffer.subarray(0, Math.min(buffer.length, runEnd - at));
        this.device.read(at, piece);
        at += piece.length;
        left -= piece.length;
        yield piece;
      }
      if (left === 0) return;
    }
  }

  /**
   * Writes `data` from the start of the clusters, a run per system call; the unused end of the
   * last cluster is zeroed in the same call, so no earlier content lingers in the slack.
   */
  writeClusters(clusters: readonly number[], data: Uint8Array, from = 0): void {
    const cb = this.layout.clusterBytes;
    let at = from;
    for (const run of runsOf(clusters)) {
      const runBytes = run.count * cb;
      const part = data.subarray(at, at + runBytes);
      const pad = runBytes - part.length;
      this.device.write(this.clusterOffset(run.first), pad > 0 ? [part, this.zeros.subarray(0, pad)] : part);
      at += runBytes;
    }
  }

  /**
   * Writes the FAT's dirty sectors to every copy, the first copy completely before the next;
   * sectors holding links to new clusters go last, after `barrier`. Returns whether it wrote.
   */
  writeFat(barrier: () => void): boolean {
    const { first, links } = this.fat.takeDirtyRuns();
    const bps = this.layout.bytesPerSector;
    const write = (runs: readonly FatRun[]): void => {
      for (const offset of this.layout.fatOffsets) for (const run of runs) this.device.write(offset + run.sector * bps, run.bytes);
    };
    write(first);
    if (links.length > 0) {
      barrier();
      write(links);
    }
    return first.length + links.length > 0;
  }

  /** Writes a directory's dirty sectors, ascending, merging those that are adjacent on disk. */
  writeDirectory(dir: Directory): void {
    const { layout } = this;
    const bps = layout.bytesPerSector;
    const sectorsPerCluster = layout.sectorsPerCluster;
    const position = (sector: number): number =>
      dir.isRoot
        ? layout.rootOffset + sector * bps
        : this.clusterOffset(dir.clusters[Math.floor(sector / sectorsPerCluster)]!) + (sector % sectorsPerCluster) * bps;
    let pending: { at: number; parts: Uint8Array[] } | undefined;
    for (const { sector, bytes } of dir.takeDirtySectors()) {
      const at = position(sector);
      if (pending && pending.at + pending.parts.length * bps === at) {
        pending.parts.push(bytes);
        continue;
      }
      if (pending) this.device.write(pending.at, pending.parts);
      pending = { at, parts: [bytes] };
    }
    if (pending) this.device.write(pending.at, pending.parts);
  }

  /** Reads one sector-sized block of the volume (the boot sector, for the dirty flag). */
  readSector(index: number): Uint8Array {
    const bytes = new Uint8Array(this.layout.bytesPerSector);
    this.device.read(index * this.layout.bytesPerSector, bytes);
    return bytes;
  }
}
