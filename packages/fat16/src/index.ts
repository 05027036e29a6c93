/**
 * @zkguest/fat16: each guest program's private disk, a real FAT-16 volume in one image file.
 *
 * - `formatVolume(path, { size, label? })` makes a new (sparse) image.
 * - `Volume.open(path, { readOnly?, quota?, durability?, now?, timeZone? })` opens a bare or MBR-partitioned
 *   image; its methods read, write (atomic overwrite), append, list, stat, mkdir, remove,
 *   rename, report usage, and `close()`.
 * - `checkVolume(path)` checks a volume without changing it.
 * - `withImageLock(path, task)` runs `task` holding the image's inter-process lock: writers of
 *   one image (hosts, `zkguest fs`) take turns.
 *
 * Paths are absolute and '/'-separated; each component is an 8.3 name (SPEC.md §4.4). Every
 * failure is a ZkguestError carrying one of the protocol's error codes.
 */
export { formatVolume, type FormatOptions } from "./format.js";
export {
  Volume,
  type Durability,
  type OpenOptions,
  type Quota,
  type Stat,
  type Usage,
  type VolumeInfo,
  type FileWriter,
  type WriteMode,
} from "./volume.js";
export { checkVolume, type CheckReport, type Problem } from "./check.js";
export type { TimeZone } from "./dos-time.js";
export { lockImage, withImageLock, DEFAULT_LOCK_WAIT_MS, type ImageLockOptions } from "./image-lock.js";
export { MIN_VOLUME_BYTES, MAX_VOLUME_BYTES } from "./geometry.js";
export { FileBlockDevice, MemoryBlockDevice, type BlockDevice } from "./block-device.js";
