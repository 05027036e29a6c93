import type { Phase } from "./report.js";

/**
 * Where a run's phases find the program's disk when the caller keeps disks itself (a service
 * that stores them in a database, or gives each owner of a program a disk of its own): the
 * host asks for the disk before each phase that touches it, and gives it back when the phase
 * is over, so that a run holds no disk while it proves.
 *
 * Pass it per run: `host.prove(program, args, { disk })`. Without it the host uses the
 * registry's disk image, as before.
 */
export interface PhaseDisk {
  /**
   * Runs `task` (one phase) with the disk to itself: `task` gets the path of an up-to-date
   * FAT-16 image file and may change it. The disk keeps what the phase wrote before `use`
   * resolves with the task's result; if it cannot (its store failed), `use` rejects and the
   * run with it, so that a run never reports what its disk did not keep. A task that throws
   * leaves the disk as it was before the phase, where the store can (a store without
   * transactions keeps what was written).
   */
  use<T>(phase: Phase, task: (image: string) => Promise<T>): Promise<T>;
}
