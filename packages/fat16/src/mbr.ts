import { looksLikeBootSector } from "./boot-sector.js";
import { corrupt, fmt, ok, type Result } from "./result.js";

/** Where the FAT volume sits inside an image: the whole image, or one MBR partition. */
export interface VolumeWindow {
  readonly offset: number;
  readonly length: number;
  /** 1..4 when the volume is an MBR partition. */
  readonly partition?: number;
}

const PARTITION_TABLE = 446;
const SECTOR = 512;
/** MBR type bytes of FAT partitions (FAT-12, FAT-16 < 32 MiB, FAT-16, FAT-16 LBA, FAT-32 CHS/LBA; and hidden variants). */
const FAT_TYPES = new Set([0x01, 0x04, 0x06, 0x0e, 0x0b, 0x0c, 0x11, 0x14, 0x16, 0x1e, 0x1b, 0x1c]);

/**
 * Finds the FAT volume in an image from its first sector: a bare volume (as mkfs.fat makes
 * them) starts with a boot sector; otherwise an MBR's first FAT partition is used (the Valence
 * coprocessor's images put a FAT-16 partition at LBA 1). Whether that partition really is
 * FAT-16 is decided by its boot sector, not its type byte.
 */
export function locateVolume(sector0: Uint8Array, imageBytes: number): Result<VolumeWindow> {
  if (imageBytes < SECTOR) return corrupt(`image is ${fmt(imageBytes)} bytes, too short for a boot sector`);
  const whole = { offset: 0, length: imageBytes };
  if (looksLikeBootSector(sector0)) return ok(whole);
  // A jump instruction but a broken BPB: parse it as a boot sector, so the error names the bad field.
  const startsWithJump = (sector0[0] === 0xeb && sector0[2] === 0x90) || sector0[0] === 0xe9;
  const signed = sector0[510] === 0x55 && sector0[511] === 0xaa;
  for (let i = 0; signed && i < 4; i++) {
    const e = PARTITION_TABLE + 16 * i;
    const type = sector0[e + 4]!;
    if (!FAT_TYPES.has(type) || (sector0[e] !== 0x00 && sector0[e] !== 0x80)) continue;
    const dv = new DataView(sector0.buffer, sector0.byteOffset + e);
    const start = dv.getUint32(8, true) * SECTOR;
    const length = dv.getUint32(12, true) * SECTOR;
    if (start === 0 || length === 0 || start + length > imageBytes) {
      return corrupt(`MBR partition ${i + 1} (type 0x${type.toString(16)}) spans bytes ${fmt(start)}..${fmt(start + length)}, outside the ${fmt(imageBytes)}-byte image`);
    }
    return ok({ offset: start, length, partition: i + 1 });
  }
  if (startsWithJump) return ok(whole);
  return corrupt(
    signed
      ? "sector 0 is neither a FAT boot sector nor a partition table with a FAT partition"
      : "sector 0 is neither a FAT boot sector nor a partition table (no 0x55 0xAA signature)",
  );
}
