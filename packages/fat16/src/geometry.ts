import { ENTRY_BYTES } from "./dir-entry.js";
import { fail, fmt, ok, type Result } from "./result.js";

/**
 * FAT-16 by cluster count is 4,085..65,524 (fatgen103), but drivers disagree at both edges
 * (Windows calls < 4,087 FAT-12; some count the reserved entries): volumes we format stay inside
 * this narrower range. Volumes we read may use the whole range.
 */
export const MIN_FORMAT_CLUSTERS = 4101;
export const MAX_FORMAT_CLUSTERS = 65508;
/** The FAT type is decided by the cluster count alone. */
export const FAT16_MIN_CLUSTERS = 4085;
export const FAT16_MAX_CLUSTERS = 65524;

export const FORMAT_SECTOR_BYTES = 512;
export const FORMAT_ROOT_ENTRIES = 512;
export const FORMAT_FAT_COUNT = 2;
/** 32 KiB clusters: the largest every FAT-16 driver accepts (64 KiB is NT only). */
const FORMAT_MAX_SECTORS_PER_CLUSTER = 64;

/** The boot-sector fields that place a volume's regions. */
export interface LayoutFields {
  readonly bytesPerSector: number;
  readonly sectorsPerCluster: number;
  readonly reservedSectors: number;
  readonly fatCount: number;
  readonly sectorsPerFat: number;
  readonly rootEntries: number;
  readonly totalSectors: number;
}

/** Where everything is on a FAT-16 volume, in bytes from the volume's start. */
export interface Layout extends LayoutFields {
  readonly clusterBytes: number;
  /** Data clusters, numbered 2..clusterCount+1. */
  readonly clusterCount: number;
  /** Byte offset of each FAT copy. */
  readonly fatOffsets: readonly number[];
  /** Sectors of each FAT that hold entries (clusterCount + 2 of them); the rest must be zero. */
  readonly fatSectorsUsed: number;
  readonly rootOffset: number;
  readonly rootBytes: number;
  readonly dataOffset: number;
  readonly volumeBytes: number;
}

/**
 * The derived layout of the given boot-sector fields. Pure arithmetic on values that are at most
 * 32 bits wide, so every product is exact in a double; the caller validates the fields first.
 */
export function deriveLayout(f: LayoutFields): Layout {
  const rootSectors = Math.ceil((f.rootEntries * ENTRY_BYTES) / f.bytesPerSector);
  const firstDataSector = f.reservedSectors + f.fatCount * f.sectorsPerFat + rootSectors;
  const clusterCount = Math.max(0, Math.floor((f.totalSectors - firstDataSector) / f.sectorsPerCluster));
  const fatOffsets = Array.from({ length: f.fatCount }, (_, i) => (f.reservedSectors + i * f.sectorsPerFat) * f.bytesPerSector);
  return {
    ...f,
    clusterBytes: f.sectorsPerCluster * f.bytesPerSector,
    clusterCount,
    fatOffsets,
    fatSectorsUsed: Math.ceil(((clusterCount + 2) * 2) / f.bytesPerSector),
    rootOffset: (f.reservedSectors + f.fatCount * f.sectorsPerFat) * f.bytesPerSector,
    rootBytes: f.rootEntries * ENTRY_BYTES,
    dataOffset: firstDataSector * f.bytesPerSector,
    volumeBytes: f.totalSectors * f.bytesPerSector,
  };
}

/**
 * The layout for `totalSectors` at `sectorsPerCluster`, with the data region aligned to a
 * cluster (so cluster writes are page-aligned on the host) and, if the count would still be above
 * the FAT-16 margin, extra reserved sectors to bring it down (only near 2 GiB).
 */
function layoutAt(totalSectors: number, sectorsPerCluster: number): Layout {
  const rootSectors = (FORMAT_ROOT_ENTRIES * ENTRY_BYTES) / FORMAT_SECTOR_BYTES;
  // Size the FAT for the most clusters this layout could hold (never more than the margin):
  // a FAT a little larger than needed is valid, one too small is not.
  const upperBound = Math.min(MAX_FORMAT_CLUSTERS, Math.floor((totalSectors - 1 - rootSectors) / sectorsPerCluster));
  const sectorsPerFat = Math.ceil(((upperBound + 2) * 2) / FORMAT_SECTOR_BYTES);
  const metadata = 1 + FORMAT_FAT_COUNT * sectorsPerFat + rootSectors;
  let reservedSectors = 1 + ((sectorsPerCluster - (metadata % sectorsPerCluster)) % sectorsPerCluster);
  const fields = { bytesPerSector: FORMAT_SECTOR_BYTES, sectorsPerCluster, fatCount: FORMAT_FAT_COUNT, sectorsPerFat, rootEntries: FORMAT_ROOT_ENTRIES, totalSectors };
  const first = deriveLayout({ ...fields, reservedSectors });
  if (first.clusterCount <= MAX_FORMAT_CLUSTERS || sectorsPerCluster < FORMAT_MAX_SECTORS_PER_CLUSTER) return first;
  reservedSectors += (first.clusterCount - MAX_FORMAT_CLUSTERS) * sectorsPerCluster;
  return deriveLayout({ ...fields, reservedSectors });
}

/** The largest volume we format: 2 GiB. */
export const MAX_VOLUME_BYTES = 2 * 1024 ** 3;

/** Chooses the layout for a new volume of `volumeBytes`: the smallest clusters that keep the count inside the margin. */
export function chooseLayout(volumeBytes: number): Result<Layout> {
  if (!Number.isSafeInteger(volumeBytes) || volumeBytes % FORMAT_SECTOR_BYTES !== 0) {
    return fail("invalid_state", `volume size ${volumeBytes} is not a whole number of ${FORMAT_SECTOR_BYTES}-byte sectors`);
  }
  if (volumeBytes > MAX_VOLUME_BYTES) {
    return fail("limit_exceeded", `volume size ${fmt(volumeBytes)} bytes is above the FAT-16 maximum of ${fmt(MAX_VOLUME_BYTES)} bytes (2 GiB)`);
  }
  const totalSectors = volumeBytes / FORMAT_SECTOR_BYTES;
  for (let spc = 1; spc <= FORMAT_MAX_SECTORS_PER_CLUSTER; spc *= 2) {
    const layout = layoutAt(totalSectors, spc);
    if (layout.clusterCount < MIN_FORMAT_CLUSTERS) break;
    if (layout.clusterCount <= MAX_FORMAT_CLUSTERS && layout.reservedSectors <= 0xffff) return ok(layout);
  }
  return fail(
    "limit_exceeded",
    `volume size ${fmt(volumeBytes)} bytes is below the FAT-16 minimum of ${fmt(MIN_VOLUME_BYTES)} bytes (${fmt(MIN_FORMAT_CLUSTERS)} clusters of 512 bytes)`,
  );
}

/** The smallest volume we format (about 2.1 MB: 4,101 clusters of 512 bytes plus the metadata). */
export const MIN_VOLUME_BYTES: number = (() => {
  let sectors = MIN_FORMAT_CLUSTERS;
  while (layoutAt(sectors, 1).clusterCount < MIN_FORMAT_CLUSTERS) sectors++;
  return sectors * FORMAT_SECTOR_BYTES;
})();
