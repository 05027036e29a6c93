import fs from "node:fs";
import { FileBlockDevice, hostError, type BlockDevice } from "./block-device.js";
import { serializeBootSector } from "./boot-sector.js";
import { ATTR_VOLUME_ID, writeEntry } from "./dir-entry.js";
import { toDosTime } from "./dos-time.js";
import { chooseLayout } from "./geometry.js";
import { fail, fmt, orThrow } from "./result.js";
import { parseVolumeLabel } from "./short-name.js";

export interface FormatOptions {
  /** Bytes: a multiple of 512 from MIN_VOLUME_BYTES (about 2.1 MB) to MAX_VOLUME_BYTES (2 GiB). */
  readonly size: number;
  /** Up to 11 characters (short-name characters and spaces), stored upper-case. */
  readonly label?: string;
  /** The 32-bit volume serial (default: random). */
  readonly serial?: number;
  /** The time stamped on the label entry (default: now). */
  readonly now?: Date;
}

const MEDIA = 0xf8;
const NO_NAME = new TextEncoder().encode("NO NAME    ");

/**
 * Formats a FAT-16 volume: a new image file (refused if the file exists, so nothing is
 * destroyed by accident) or a BlockDevice. Sectors of 512 bytes, two FATs, 512 root entries,
 * media 0xF8, and the smallest clusters that keep the cluster count well inside the FAT-16
 * range. An image file is sparse: only the boot sector, the FATs and the root directory are
 * written, so formatting 2 GiB writes well under a megabyte.
 */
export function formatVolume(target: string | BlockDevice, options: FormatOptions): void {
  const layout = orThrow(chooseLayout(options.size));
  const label = options.label === undefined ? undefined : orThrow(parseVolumeLabel(options.label));
  // The global Web Crypto: importing node:crypto would slow every start of the CLI, not just mkfs.
  const serial = options.serial ?? crypto.getRandomValues(new Uint32Array(1))[0]!;
  let device: BlockDevice;
  if (typeof target === "string") {
    try {
      const fd = fs.openSync(target, "wx");
      try {
        fs.ftruncateSync(fd, options.size);
      } finally {
        fs.closeSync(fd);
      }
    } catch (err) {
      if ((err as { code?: unknown }).code === "EEXIST") {
        orThrow(fail("already_exists", `image '${target}' already exists; formatting would destroy it (remove it first)`));
      }
      throw hostError(err, `creating image '${target}'`);
    }
    device = FileBlockDevice.open(target, false);
  } else {
    device = target;
    if (device.byteLength < options.size) {
      orThrow(fail("limit_exceeded", `the device holds ${fmt(device.byteLength)} bytes, less than the ${fmt(options.size)} asked for`));
    }
  }
  try {
    const bps = layout.bytesPerSector;
    device.write(0, serializeBootSector({ layout, media: MEDIA, serial, label: label ?? NO_NAME }));
    const fat = new Uint8Array(layout.sectorsPerFat * bps);
    // FAT[0] = 0xFF00 | media; FAT[1] = 0xFFFF: cleanly closed, no I/O error.
    fat.set([MEDIA, 0xff, 0xff, 0xff]);
    for (const offset of layout.fatOffsets) device.write(offset, fat);
    const root = new Uint8Array(layout.rootBytes);
    if (label) writeEntry(root, 0, { name: label, attr: ATTR_VOLUME_ID, cluster: 0, size: 0, at: toDosTime(options.now ?? new Date()) });
    device.write(layout.rootOffset, root);
    device.sync();
  } catch (err) {
    throw hostError(err, "formatting");
  } finally {
    if (typeof target === "string") device.close();
  }
}
