import { Volume, type Quota } from "@zkguest/fat16";

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
    // Batch durability: the phase's changes are committed together, with the store's barriers,
    // when the disk is closed at the end of the phase (a crash loses them, never the volume).
    this.volume ??= Volume.open(this.imagePath, { quota: this.quota, durability: "batch" });
    return this.volume;
  }

  get opened(): boolean {
    return this.volume !== undefined;
  }

  /** Commits and closes the volume if it was opened. */
  close(): void {
    const volume = this.volume;
    this.volume = undefined;
    volume?.close();
  }
}
