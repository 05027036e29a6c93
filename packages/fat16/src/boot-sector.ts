import { corrupt, fmt, isLeft, ok, type Result } from "./result.js";
import {
  deriveLayout,
  FAT16_MAX_CLUSTERS,
  FAT16_MIN_CLUSTERS,
  FORMAT_SECTOR_BYTES,
  type Layout,
} from "./geometry.js";

/** Byte 0x25 (BS_Reserved1 on FAT-16): Linux and fsck.fat keep the "not cleanly unmounted" flag in bit 0. */
export const DIRTY_BYTE = 0x25;
const SIGNATURE_OFFSET = 510;
const EXTENDED_BOOT_SIGNATURE = 0x29;

export interface BootSector {
  readonly layout: Layout;
  readonly media: number;
  /** Volume serial (BS_VolID) and label (BS_VolLab, trailing spaces removed); absent without the extended boot signature. */
  readonly serial?: number;
  readonly label?: string;
  readonly dirty: boolean;
  /** Whether 0x55 0xAA is at 510..511. Opening requires it; the check reports it. */
  readonly hasSignature: boolean;
}

const u16 = (b: Uint8Array, o: number): number => b[o]! | (b[o + 1]! << 8);
const u32 = (b: Uint8Array, o: number): number => (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16)) + b[o + 3]! * 0x1000000;
const isPowerOfTwo = (n: number): boolean => n > 0 && (n & (n - 1)) === 0;

/** Whether the sector plausibly starts a FAT boot sector (as opposed to an MBR): a jump and a sane BPB. */
export function looksLikeBootSector(s: Uint8Array): boolean {
  const jump = (s[0] === 0xeb && s[2] === 0x90) || s[0] === 0xe9;
  const bps = u16(s, 11);
  return jump && bps >= 512 && bps <= 4096 && isPowerOfTwo(bps) && isPowerOfTwo(s[13]!) && s[16]! >= 1;
}

/**
 * Parses and validates a FAT-16 boot sector against the size of the device it sits on. Every
 * field that sizes a region or a loop is checked here, so nothing later trusts an unchecked
 * number from the image. A FAT-12 or FAT-32 volume is refused as 'not FAT-16'.
 */
export function parseBootSector(s: Uint8Array, deviceBytes: number): Result<BootSector> {
  if (s.length < FORMAT_SECTOR_BYTES) return corrupt(`image is ${fmt(deviceBytes)} bytes, too short for a boot sector`);
  const bytesPerSector = u16(s, 11);
  const sectorsPerCluster = s[13]!;
  const reservedSectors = u16(s, 14);
  const fatCount = s[16]!;
  const rootEntries = u16(s, 17);
  const totalSectors16 = u16(s, 19);
  const media = s[21]!;
  const sectorsPerFat = u16(s, 22);
  const totalSectors32 = u32(s, 32);

  if (rootEntries === 0 && sectorsPerFat === 0) {
    return corrupt("not FAT-16: this is a FAT-32 volume (the root entry count and 16-bit FAT size are 0)");
  }
  if (![512, 1024, 2048, 4096].includes(bytesPerSector)) {
    return corrupt(`boot sector: bytes per sector is ${bytesPerSector}; FAT allows 512, 1024, 2048 or 4096`);
  }
  if (!isPowerOfTwo(sectorsPerCluster) || sectorsPerCluster * bytesPerSector > 65536) {
    return corrupt(`boot sector: sectors per cluster is ${sectorsPerCluster}; it must be a power of two with clusters of at most 64 KiB`);
  }
  if (reservedSectors === 0) return corrupt("boot sector: reserved sector count is 0; the boot sector itself is reserved");
  if (fatCount < 1 || fatCount > 2) return corrupt(`boot sector: number of FATs is ${fatCount}; this store reads volumes with 1 or 2`);
  if (rootEntries === 0 || (rootEntries * 32) % bytesPerSector !== 0) {
    return corrupt(`boot sector: root entry count is ${rootEntries}; FAT-16 needs a non-zero count filling whole sectors`);
  }
  if (sectorsPerFat === 0) return corrupt("boot sector: sectors per FAT is 0");
  if (totalSectors16 === 0 && totalSectors32 === 0) return corrupt("boot sector: total sector count is 0");
  if (totalSectors16 !== 0 && totalSectors32 !== 0 && totalSectors16 !== totalSectors32) {
    return corrupt(`boot sector: the 16-bit (${totalSectors16}) and 32-bit (${totalSectors32}) total sector counts disagree`);
  }
  if (media !== 0xf0 && media < 0xf8) return corrupt(`boot sector: media byte 0x${media.toString(16)} is not 0xF0 or 0xF8..0xFF`);

  const totalSectors = totalSectors16 || totalSectors32;
  const layout = deriveLayout({ bytesPerSector, sectorsPerCluster, reservedSectors, fatCount, sectorsPerFat, rootEntries, totalSectors });
  if (layout.dataOffset >= layout.volumeBytes) {
    return corrupt(`boot sector: the reserved sectors, FATs and root directory (${fmt(layout.dataOffset)} bytes) leave no data region in a ${fmt(layout.volumeBytes)}-byte volume`);
  }
  if (layout.volumeBytes > deviceBytes) {
    return corrupt(`the boot sector describes ${fmt(layout.volumeBytes)} bytes but the image holds only ${fmt(deviceBytes)} (truncated image?)`);
  }
  if (layout.clusterCount < FAT16_MIN_CLUSTERS) {
    return corrupt(`not FAT-16: ${fmt(layout.clusterCount)} clusters make a FAT-12 volume (FAT-16 has ${fmt(FAT16_MIN_CLUSTERS)} to ${fmt(FAT16_MAX_CLUSTERS)})`);
  }
  if (layout.clusterCount > FAT16_MAX_CLUSTERS) {
    return corrupt(`not FAT-16: ${fmt(layout.clusterCount)} clusters make a FAT-32 volume (FAT-16 has ${fmt(FAT16_MIN_CLUSTERS)} to ${fmt(FAT16_MAX_CLUSTERS)})`);
  }
  if (layout.fatSectorsUsed > sectorsPerFat) {
    return corrupt(`boot sector: a FAT of ${sectorsPerFat} sectors is too small for ${fmt(layout.clusterCount)} clusters (needs ${layout.fatSectorsUsed})`);
  }
  const extended = s[38] === EXTENDED_BOOT_SIGNATURE || s[38] === 0x28;
  return ok({
    layout,
    media,
    ...(extended ? { serial: u32(s, 39) } : {}),
    ...(s[38] === EXTENDED_BOOT_SIGNATURE ? { label: String.fromCharCode(...s.subarray(43, 54)).trimEnd() } : {}),
    dirty: (s[DIRTY_BYTE]! & 1) === 1,
    hasSignature: s[SIGNATURE_OFFSET] === 0x55 && s[SIGNATURE_OFFSET + 1] === 0xaa,
  });
}

/** Parses and insists on the 0x55AA signature, as opening a volume does. */
export function parseBootSectorStrict(s: Uint8Array, deviceBytes: number): Result<BootSector> {
  const r = parseBootSector(s, deviceBytes);
  if (!isLeft(r) && !r.right.hasSignature) return corrupt("boot sector: the 0x55 0xAA signature is missing at bytes 510-511");
  return r;
}

export interface NewBootSector {
  readonly layout: Layout;
  readonly media: number;
  readonly serial: number;
  /** 11 bytes, space padded ("NO NAME    " when there is no label). */
  readonly label: Uint8Array;
}

/** The boot sector of a new volume (512 bytes), as fatgen103 and mkfs.fat lay it out. */
export function serializeBootSector({ layout, media, serial, label }: NewBootSector): Uint8Array {
  const s = new Uint8Array(layout.bytesPerSector);
  const dv = new DataView(s.buffer);
  s.set([0xeb, 0x3c, 0x90]);
  s.set(new TextEncoder().encode("ZKGUEST "), 3);
  dv.setUint16(11, layout.bytesPerSector, true);
  s[13] = layout.sectorsPerCluster;
  dv.setUint16(14, layout.reservedSectors, true);
  s[16] = layout.fatCount;
  dv.setUint16(17, layout.rootEntries, true);
  if (layout.totalSectors < 0x10000) dv.setUint16(19, layout.totalSectors, true);
  else dv.setUint32(32, layout.totalSectors, true);
  s[21] = media;
  dv.setUint16(22, layout.sectorsPerFat, true);
  dv.setUint16(24, 32, true); // sectors per track and heads: nominal, nothing reads them on an image
  dv.setUint16(26, 64, true);
  s[36] = 0x80;
  s[38] = EXTENDED_BOOT_SIGNATURE;
  dv.setUint32(39, serial >>> 0, true);
  s.set(label.subarray(0, 11), 43);
  s.set(new TextEncoder().encode("FAT16   "), 54);
  // Not bootable: 'int 18h' (no boot device) then spin, where the jump at byte 0 lands.
  s.set([0xcd, 0x18, 0xeb, 0xfe], 0x3e);
  s[SIGNATURE_OFFSET] = 0x55;
  s[SIGNATURE_OFFSET + 1] = 0xaa;
  return s;
}
