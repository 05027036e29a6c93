import type { DosTime } from "./dos-time.js";
import type { ShortName } from "./short-name.js";

/** The 32-byte directory entry (fatgen103 §6): field offsets and the few operations on them. */
export const ENTRY_BYTES = 32;

export const ATTR_VOLUME_ID = 0x08;
export const ATTR_DIRECTORY = 0x10;
export const ATTR_ARCHIVE = 0x20;
/** Long-file-name entries carry read-only | hidden | system | volume id, tested under this mask. */
export const ATTR_LONG_NAME = 0x0f;
const ATTR_LONG_NAME_MASK = 0x3f;

export const NAME_END = 0x00;
export const NAME_DELETED = 0xe5;

const OFF_ATTR = 11;
const OFF_NTRES = 12;
const OFF_CRT_TENTH = 13;
const OFF_CRT_TIME = 14;
const OFF_CRT_DATE = 16;
const OFF_ACC_DATE = 18;
const OFF_CLUSTER_HI = 20;
const OFF_WRT_TIME = 22;
const OFF_WRT_DATE = 24;
const OFF_CLUSTER_LO = 26;
const OFF_SIZE = 28;

export type SlotKind = "end" | "deleted" | "long-name" | "label" | "dot" | "file" | "dir";

const u16 = (b: Uint8Array, o: number): number => b[o]! | (b[o + 1]! << 8);
const put16 = (b: Uint8Array, o: number, v: number): void => {
  b[o] = v & 0xff;
  b[o + 1] = (v >> 8) & 0xff;
};

export function slotKind(b: Uint8Array, o: number): SlotKind {
  const first = b[o]!;
  if (first === NAME_END) return "end";
  if (first === NAME_DELETED) return "deleted";
  const attr = b[o + OFF_ATTR]!;
  if ((attr & ATTR_LONG_NAME_MASK) === ATTR_LONG_NAME) return "long-name";
  if (attr & ATTR_VOLUME_ID) return "label";
  if (first === 0x2e && isDotName(b, o)) return "dot";
  return attr & ATTR_DIRECTORY ? "dir" : "file";
}

/** "." or ".." padded with spaces. */
function isDotName(b: Uint8Array, o: number): boolean {
  const dots = b[o + 1] === 0x2e ? 2 : 1;
  for (let i = dots; i < 11; i++) if (b[o + i] !== 0x20) return false;
  return true;
}

export const isDotDot = (b: Uint8Array, o: number): boolean => b[o] === 0x2e && b[o + 1] === 0x2e;
export const attrOf = (b: Uint8Array, o: number): number => b[o + OFF_ATTR]!;
export const firstClusterOf = (b: Uint8Array, o: number): number => u16(b, o + OFF_CLUSTER_LO);
/** Always 0 on FAT-16; anything else is damage the check reports. */
export const highClusterOf = (b: Uint8Array, o: number): number => u16(b, o + OFF_CLUSTER_HI);
export const sizeOf = (b: Uint8Array, o: number): number =>
  (b[o + OFF_SIZE]! | (b[o + OFF_SIZE + 1]! << 8) | (b[o + OFF_SIZE + 2]! << 16)) + b[o + OFF_SIZE + 3]! * 0x1000000;
export const modifiedOf = (b: Uint8Array, o: number): { date: number; time: number } => ({
  date: u16(b, o + OFF_WRT_DATE),
  time: u16(b, o + OFF_WRT_TIME),
});

export interface NewEntry {
  readonly name: ShortName;
  readonly attr: number;
  readonly cluster: number;
  readonly size: number;
  readonly at: DosTime;
}

/** Writes a whole entry: creation, access and write times all `at`; NTRes (case bits) 0. */
export function writeEntry(b: Uint8Array, o: number, e: NewEntry): void {
  b.fill(0, o, o + ENTRY_BYTES);
  b.set(e.name, o);
  b[o + OFF_ATTR] = e.attr;
  b[o + OFF_CRT_TENTH] = e.at.tenths;
  put16(b, o + OFF_CRT_TIME, e.at.time);
  put16(b, o + OFF_CRT_DATE, e.at.date);
  put16(b, o + OFF_ACC_DATE, e.at.date);
  put16(b, o + OFF_CLUSTER_LO, e.cluster);
  setSize(b, o, e.size);
  setModified(b, o, e.at);
}

/** Renames in place; the NTRes case bits described the old name, so they are cleared. */
export function setName(b: Uint8Array, o: number, name: ShortName): void {
  b.set(name, o);
  b[o + OFF_NTRES] = 0;
}

export function setCluster(b: Uint8Array, o: number, cluster: number): void {
  put16(b, o + OFF_CLUSTER_LO, cluster);
}

export function setSize(b: Uint8Array, o: number, size: number): void {
  put16(b, o + OFF_SIZE, size & 0xffff);
  put16(b, o + OFF_SIZE + 2, Math.floor(size / 0x10000));
}

export function setModified(b: Uint8Array, o: number, at: DosTime): void {
  put16(b, o + OFF_WRT_TIME, at.time);
  put16(b, o + OFF_WRT_DATE, at.date);
  put16(b, o + OFF_ACC_DATE, at.date);
}

/** The checksum of an 11-byte short name that its long-name entries carry at byte 13. */
export function shortNameChecksum(b: Uint8Array, o: number): number {
  let sum = 0;
  for (let i = 0; i < 11; i++) sum = (((sum & 1) << 7) + (sum >> 1) + b[o + i]!) & 0xff;
  return sum;
}

export const longNameChecksumOf = (b: Uint8Array, o: number): number => b[o + 13]!;
