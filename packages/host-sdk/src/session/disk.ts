import { Volume, type Quota } from "@zkguest/fat16";
import { GUEST_EPOCH_MS } from "../engine/engine.js";

/** What a guest's writes are stamped with: the guests' epoch, in UTC, whenever and wherever the host runs (SPEC.md §4.5). */
const GUEST_DISK_TIME = new Date(GUEST_EPOCH_MS);

/**
 * A program's disk for one phase, opened on the guest's first `fs.*` request. Most phases never
 * touch the disk (a witness step usually only computes), and opening a volume for writing checks
 * it and syncs it: a cost a phase pays only when it uses the disk.
 */
export class LazyDisk {
  private volume: Volume | undefined;

  constructor(
    readonly imagePath: string,
    private readonly quota: Quota,
  ) {}

  /** The open volume; throws the store's ZkguestError (`corrupt_volume`, ...) if it cannot be opened. */
  get(): Volume {
    // Ordered durability: each change is committed, in the crash-safe order, before the guest
    // gets its answer, without an fsync per change. A worker terminated in the middle of a
    // write (the hard stop) is a crash of the writer, which this survives; a crash of the
    // machine may need fsck.fat. Batch mode would be cheaper still, but it keeps removed
    // files' clusters until the commit, so a guest could not remove a file and then use the
    // space in the same phase.
    this.volume ??= Volume.open(this.imagePath, { quota: this.quota, durability: "ordered", now: () => GUEST_DISK_TIME, timeZone: "utc" });
    return this.volume;
  }

  get opened(): boolean {
    return this.volume !== undefined;
  }

  /** Closes the volume if it was opened. */
  close(): void {
    const volume = this.volume;
    this.volume = undefined;
    volume?.close();
  }
}
