import { corrupt, ok, type Result } from "./result.js";

export const FAT_FREE = 0;
export const FAT_BAD = 0xfff7;
/** What we write at the end of a chain; readers accept 0xFFF8..0xFFFF. */
export const FAT_EOC = 0xffff;
export const isEndOfChain = (v: number): boolean => v >= 0xfff8;
/** Dirty marks of FAT sectors: to write, and to write after a barrier (it holds a link). */
const DIRTY = 1;
const DIRTY_LINK = 2;
/** FAT[1] bit 15: set when the volume was cleanly closed. */
export const FAT1_CLEAN = 0x8000;

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/**
 * Cycle detection marks, shared by every Fat on the thread (walks are synchronous and never
 * interleave): a cluster is visited in the current walk when its mark equals the walk's stamp.
 * Shared because 4 bytes per cluster, allocated zeroed at each open, cost more than the walks
 * (a 128 KiB allocation is an mmap and page faults). Cleared only when the 32-bit stamp wraps.
 */
let visited = new Uint32Array(0);
let walkStamp = 0;

/** A stamp for a new walk over clusters below `clusters`. */
function nextWalkStamp(clusters: number): number {
  if (visited.length < clusters) {
    visited = new Uint32Array(clusters);
    walkStamp = 0;
  }
  if (walkStamp === 0xffffffff) {
    visited.fill(0);
    walkStamp = 0;
  }
  return ++walkStamp;
}

/** A run of consecutive dirty FAT sectors, with its bytes encoded for disk. */
export interface FatRun {
  readonly sector: number;
  readonly bytes: Uint8Array;
}

/**
 * The file allocation table, held in memory (at most 65,526 entries, 128 KiB) and written back
 * sector by sector to every copy. Allocation is next-fit from a hint, so consecutive writes get
 * consecutive clusters and finding a free cluster is O(1) amortized rather than a scan from 2.
 */
export class Fat {
  private readonly dirty: Uint8Array;
  private dirtyCount = 0;
  private free: number;
  private hint = 2;

  private constructor(
    private readonly next: Uint16Array,
    readonly clusterCount: number,
    private readonly bytesPerSector: number,
  ) {
    this.dirty = new Uint8Array(Math.ceil((next.length * 2) / bytesPerSector));
    let free = 0;
    let firstFree = 0;
    for (let c = next.length - 1; c >= 2; c--) {
      if (next[c] === FAT_FREE) {
        free++;
        firstFree = c;
      }
    }
    this.free = free;
    // Next-fit starts at the first free cluster, not at 2: on a full disk the scan from 2 would
    // pass every used cluster at the first allocation of every open.
    if (firstFree !== 0) this.hint = firstFree;
  }

  /**
   * Decodes clusterCount + 2 little-endian entries from the FAT's bytes. The table takes the
   * bytes over (it is a view of them where the machine's byte order allows): the caller must not
   * change them afterwards.
   */
  static decode(bytes: Uint8Array, clusterCount: number, bytesPerSector: number): Fat {
    const count = clusterCount + 2;
    const own = LITTLE_ENDIAN && bytes.byteOffset % 2 === 0 ? new Uint16Array(bytes.buffer, bytes.byteOffset, count) : Fat.decodeEntries(bytes, count);
    return new Fat(own, clusterCount, bytesPerSector);
  }

  /** A copy of the first `count` little-endian entries of the FAT's bytes. */
  static decodeEntries(bytes: Uint8Array, count: number): Uint16Array {
    // On a little-endian machine the entries are the bytes as they are: one copy.
    if (LITTLE_ENDIAN && bytes.byteOffset % 2 === 0) return new Uint16Array(bytes.buffer, bytes.byteOffset, count).slice();
    const next = new Uint16Array(count);
    for (let i = 0; i < count; i++) next[i] = bytes[2 * i]! | (bytes[2 * i + 1]! << 8);
    return next;
  }

  get maxCluster(): number {
    return this.clusterCount + 1;
  }

  get freeCount(): number {
    return this.free;
  }

  get isDirty(): boolean {
    return this.dirtyCount > 0;
  }

  get(cluster: number): number {
    return this.next[cluster]!;
  }

  private isCluster(n: number): boolean {
    return n >= 2 && n <= this.maxCluster;
  }

  set(cluster: number, value: number): void {
    const before = this.next[cluster]!;
    if (before === value) return;
    if (cluster >= 2) this.free += (value === FAT_FREE ? 1 : 0) - (before === FAT_FREE ? 1 : 0);
    this.next[cluster] = value;
    this.markDirty(cluster);
  }

  /** Marks the sector holding `cluster`'s entry for writing (also used to rewrite a differing second copy). */
  markDirty(cluster: number): void {
    const s = this.sectorOf(cluster);
    if (!this.dirty[s]) {
      this.dirty[s] = DIRTY;
      this.dirtyCount++;
    }
  }

  private sectorOf(cluster: number): number {
    return Math.floor((cluster * 2) / this.bytesPerSector);
  }

  /**
   * Joins the chain starting at `to` (already allocated) after `from`, the last cluster of a live
   * chain. The sector holding this link is written after every other dirty sector, with a
   * barrier between (see takeDirtyRuns): a FAT write can stop between sectors, and a link that
   * reached the disk before the entries it leads to would join free clusters to a live chain.
   */
  link(from: number, to: number): void {
    this.set(from, to);
    this.dirty[this.sectorOf(from)] = DIRTY_LINK;
  }

  /**
   * The clusters of the chain starting at `first`, at most `upTo` of them (fewer only if the
   * chain ends first). Every link followed is checked and a cluster seen twice is a cycle, so
   * the walk ends within the cluster count whatever `upTo` is.
   */
  chain(first: number, upTo = Infinity): Result<number[]> {
    if (!this.isCluster(first)) return corrupt(`first cluster ${first} is outside 2..${this.maxCluster}`);
    const out: number[] = [];
    const stamp = nextWalkStamp(this.next.length);
    let c = first;
    for (;;) {
      if (visited[c] === stamp) return corrupt(`cluster chain from ${first} loops (a cycle back to cluster ${c})`);
      visited[c] = stamp;
      out.push(c);
      if (out.length >= upTo) return ok(out);
      const v = this.next[c]!;
      if (isEndOfChain(v)) return ok(out);
      if (v === FAT_FREE) return corrupt(`cluster ${c} in a chain is marked free in the FAT`);
      if (v === FAT_BAD) return corrupt(`cluster ${c} in a chain is followed by the bad-cluster mark`);
      if (!this.isCluster(v)) return corrupt(`cluster ${c} points to ${v}, outside 2..${this.maxCluster}`);
      c = v;
    }
  }

  /** Allocates `n` free clusters linked as one chain (ending in EOC); undefined if there are not enough. */
  allocate(n: number): number[] | undefined {
    if (n > this.free) return undefined;
    const out = new Array<number>(n);
    let found = 0;
    let c = this.hint;
    while (found < n) {
      if (this.next[c] === FAT_FREE) out[found++] = c;
      c = c === this.maxCluster ? 2 : c + 1;
    }
    for (let i = 0; i < n; i++) this.set(out[i]!, i + 1 < n ? out[i + 1]! : FAT_EOC);
    this.hint = c;
    return out;
  }

  /** Clusters in use (neither free nor marked bad) for which `owner` holds 0. */
  unowned(owner: Int32Array): number[] {
    const { next } = this;
    const out: number[] = [];
    for (let c = 2; c < next.length; c++) {
      const v = next[c]!;
      if (v !== FAT_FREE && v !== FAT_BAD && owner[c] === 0) out.push(c);
    }
    return out;
  }

  /** Marks the clusters free. */
  release(clusters: readonly number[]): void {
    for (const c of clusters) this.set(c, FAT_FREE);
  }

  /**
   * Encodes the dirty sectors as runs of consecutive sectors and clears the dirty marks: first
   * the runs to write at once, then those holding links (written after a barrier).
   */
  takeDirtyRuns(): { readonly first: FatRun[]; readonly links: FatRun[] } {
    const first = this.takeRuns(DIRTY);
    const links = this.takeRuns(DIRTY_LINK);
    this.dirtyCount = 0;
    return { first, links };
  }

  private takeRuns(mark: number): FatRun[] {
    const runs: FatRun[] = [];
    const eps = this.bytesPerSector / 2;
    for (let s = 0; s < this.dirty.length; ) {
      if (this.dirty[s] !== mark) { s++; continue; }
      let end = s;
      while (end < this.dirty.length && this.dirty[end] === mark) this.dirty[end++] = 0;
      const bytes = new Uint8Array((end - s) * this.bytesPerSector);
      const last = Math.min(end * eps, this.next.length);
      if (LITTLE_ENDIAN) {
        // The entries in memory are already the bytes on disk.
        bytes.set(new Uint8Array(this.next.buffer, this.next.byteOffset + s * this.bytesPerSector, (last - s * eps) * 2));
      } else {
        for (let i = s * eps, o = 0; i < last; i++, o += 2) {
          const v = this.next[i]!;
          bytes[o] = v & 0xff;
          bytes[o + 1] = v >> 8;
        }
      }
      runs.push({ sector: s, bytes });
      s = end;
    }
    return runs;
  }
}
