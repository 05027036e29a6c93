import {
  ENTRY_BYTES,
  longNameChecksumOf,
  NAME_DELETED,
  setName,
  shortNameChecksum,
  slotKind,
  writeEntry,
  type NewEntry,
} from "./dir-entry.js";
import { nameKey, type ShortName } from "./short-name.js";

/** fatgen103: a directory holds at most 65,536 entries (2 MiB); longer chains are damage. */
export const MAX_DIR_ENTRIES = 65536;
/** At most 20 long-name entries precede a short entry (255 UTF-16 units, 13 per entry). */
const MAX_LONG_NAME_ENTRIES = 20;

/**
 * One directory's entries held in memory, with a name index (the 11-byte name key to its slot)
 * so a lookup or a create in a 10,000-entry directory does not scan it. Changes mark the sectors
 * they touch; the volume writes those back in its commit. The root has a fixed number of slots;
 * a subdirectory grows by whole clusters.
 */
export class Directory {
  private readonly index = new Map<string, number>();
  /** Deleted slots, reusable. */
  private readonly freeSlots: number[] = [];
  /** The end-of-directory slot (first 0x00 name): every slot from here on is unused. */
  private end: number;
  private readonly dirtySectors = new Set<number>();
  /** Damaged volumes may hold one name twice; the index keeps the first, removals look again. */
  private hasDuplicates = false;
  private bytes: Uint8Array;
  private usedBytes: number;

  constructor(
    /** 0 for the root. */
    readonly firstCluster: number,
    /** The directory's clusters (empty for the root, whose region is fixed). */
    readonly clusters: number[],
    content: Uint8Array,
    private readonly sectorBytes: number,
  ) {
    this.bytes = content;
    this.usedBytes = content.length;
    const slots = this.slotCount;
    this.end = slots;
    for (let slot = 0; slot < slots; slot++) {
      const o = slot * ENTRY_BYTES;
      const kind = slotKind(content, o);
      if (kind === "end") {
        this.end = slot;
        break;
      }
      if (kind === "deleted") this.freeSlots.push(slot);
      else if (kind === "file" || kind === "dir") {
        const key = nameKey(content, o);
        if (this.index.has(key)) this.hasDuplicates = true;
        else this.index.set(key, slot);
      }
    }
    // Reuse low slots first, as other FAT writers do.
    this.freeSlots.reverse();
  }

  get isRoot(): boolean {
    return this.firstCluster === 0;
  }

  get slotCount(): number {
    return this.usedBytes / ENTRY_BYTES;
  }

  /** Files and subdirectories in it (not '.', '..', labels or long-name parts). */
  get entryCount(): number {
    return this.index.size;
  }

  /** The backing bytes of the slot's 32-byte entry: read them at `offset(slot)`. */
  get data(): Uint8Array {
    return this.bytes;
  }

  offset(slot: number): number {
    return slot * ENTRY_BYTES;
  }

  lookup(key: string): number | undefined {
    return this.index.get(key);
  }

  /** Slots of the live files and directories, in directory order. */
  *liveSlots(): Generator<number> {
    for (let slot = 0; slot < this.end; slot++) {
      const kind = slotKind(this.bytes, slot * ENTRY_BYTES);
      if (kind === "file" || kind === "dir") yield slot;
    }
  }

  hasFreeSlot(): boolean {
    return this.freeSlots.length > 0 || this.end < this.slotCount;
  }

  /** Whether one more cluster may be added without passing the 65,536-entry limit. */
  canGrow(clusterBytes: number): boolean {
    return !this.isRoot && this.slotCount + clusterBytes / ENTRY_BYTES <= MAX_DIR_ENTRIES;
  }

  /** Appends a cluster (already zeroed on disk by the caller) to the directory. */
  grow(cluster: number, clusterBytes: number): void {
    const need = this.usedBytes + clusterBytes;
    if (need > this.bytes.length) {
      // Double the buffer, so a directory growing one cluster at a time is copied O(log n) times.
      const bigger = new Uint8Array(Math.max(need, this.bytes.length * 2));
      bigger.set(this.bytes.subarray(0, this.usedBytes));
      this.bytes = bigger;
    }
    this.bytes.fill(0, this.usedBytes, need);
    this.usedBytes = need;
    this.clusters.push(cluster);
  }

  /** Writes a new entry into a free slot (the caller made sure there is one) and indexes it. */
  add(entry: NewEntry): number {
    const slot = this.takeSlot();
    writeEntry(this.bytes, slot * ENTRY_BYTES, entry);
    this.index.set(nameKey(entry.name), slot);
    this.markDirty(slot);
    return slot;
  }

  /** Adds a copy of another directory's 32-byte entry under `name` (a move keeps size, times and attributes). */
  addCopy(entry: Uint8Array, name: ShortName): number {
    const slot = this.takeSlot();
    const o = slot * ENTRY_BYTES;
    this.bytes.set(entry.subarray(0, ENTRY_BYTES), o);
    setName(this.bytes, o, name);
    this.index.set(nameKey(name), slot);
    this.markDirty(slot);
    return slot;
  }

  private takeSlot(): number {
    return this.freeSlots.pop() ?? this.end++;
  }

  /** Applies `change` to the slot's entry bytes and marks it for writing. */
  update(slot: number, change: (bytes: Uint8Array, offset: number) => void): void {
    change(this.bytes, slot * ENTRY_BYTES);
    this.markDirty(slot);
  }

  /** Gives the entry a new name in place (one sector write), dropping its stale long-name entries. */
  rename(slot: number, name: ShortName): void {
    const o = slot * ENTRY_BYTES;
    this.deleteLongName(slot);
    this.unindex(slot, nameKey(this.bytes, o));
    setName(this.bytes, o, name);
    this.index.set(nameKey(name), slot);
    this.markDirty(slot);
  }

  /** Marks the entry and its long-name entries deleted (0xE5). */
  remove(slot: number): void {
    const o = slot * ENTRY_BYTES;
    this.deleteLongName(slot);
    const key = nameKey(this.bytes, o);
    this.bytes[o] = NAME_DELETED;
    this.freeSlots.push(slot);
    this.markDirty(slot);
    this.unindex(slot, key);
  }

  /** The long-name entries just before a short entry belong to it when their checksum matches. */
  private deleteLongName(slot: number): void {
    const sum = shortNameChecksum(this.bytes, slot * ENTRY_BYTES);
    for (let j = slot - 1, n = 0; j >= 0 && n < MAX_LONG_NAME_ENTRIES; j--, n++) {
      const o = j * ENTRY_BYTES;
      if (slotKind(this.bytes, o) !== "long-name" || longNameChecksumOf(this.bytes, o) !== sum) break;
      this.bytes[o] = NAME_DELETED;
      this.freeSlots.push(j);
      this.markDirty(j);
    }
  }

  private unindex(slot: number, key: string): void {
    if (this.index.get(key) !== slot) return;
    this.index.delete(key);
    if (!this.hasDuplicates) return;
    for (const other of this.liveSlots()) {
      if (nameKey(this.bytes, other * ENTRY_BYTES) === key) {
        this.index.set(key, other);
        return;
      }
    }
  }

  private markDirty(slot: number): void {
    this.dirtySectors.add(Math.floor((slot * ENTRY_BYTES) / this.sectorBytes));
  }

  get isDirty(): boolean {
    return this.dirtySectors.size > 0;
  }

  /** The sectors (relative to the directory) changed since the last call, ascending, with their bytes. */
  takeDirtySectors(): { sector: number; bytes: Uint8Array }[] {
    const sectors = [...this.dirtySectors].sort((a, b) => a - b);
    this.dirtySectors.clear();
    return sectors.map((sector) => ({ sector, bytes: this.bytes.subarray(sector * this.sectorBytes, (sector + 1) * this.sectorBytes) }));
  }
}
