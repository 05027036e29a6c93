import fs from "node:fs";
import { formatVolume, MemoryBlockDevice, MIN_VOLUME_BYTES, Volume } from "../src/index.js";
import { bytes, mcopy, mkfsFat, mmd } from "./tools.js";

/** Offsets of a FAT-16 volume's regions, read straight from its boot sector (independent of the store's parser). */
export function regions(img: Uint8Array) {
  const dv = new DataView(img.buffer, img.byteOffset);
  const bps = dv.getUint16(11, true);
  const spc = img[13]!;
  const rsvd = dv.getUint16(14, true);
  const fatSz = dv.getUint16(22, true);
  const rootEntries = dv.getUint16(17, true);
  const fat1 = rsvd * bps;
  const fat2 = fat1 + fatSz * bps;
  const root = fat2 + fatSz * bps;
  const data = root + rootEntries * 32;
  return {
    bps,
    clusterBytes: spc * bps,
    fat1,
    fat2,
    root,
    data,
    cluster: (c: number) => data + (c - 2) * spc * bps,
    setFat: (c: number, v: number, copies: readonly number[] = [fat1, fat2]) => copies.forEach((f) => dv.setUint16(f + 2 * c, v, true)),
  };
}

/** The byte offset of the entry named `name11` (11 bytes, padded) in the directory region starting at `start`. */
export function entryAt(img: Uint8Array, start: number, name11: string, slots = 512): number {
  for (let o = start; o < start + slots * 32; o += 32) {
    if (Buffer.from(img.subarray(o, o + 11)).toString("latin1") === name11) return o;
  }
  throw new Error(`no entry '${name11}'`);
}

export const u16 = (img: Uint8Array, o: number): number => img[o]! | (img[o + 1]! << 8);
export const put16 = (img: Uint8Array, o: number, v: number): void => {
  img[o] = v & 0xff;
  img[o + 1] = v >> 8;
};
export const put32 = (img: Uint8Array, o: number, v: number): void => new DataView(img.buffer, img.byteOffset).setUint32(o, v, true);

/** A small volume with a bit of everything: nested and grown directories, multi-cluster, empty and tiny files. */
export function baseImage(): Uint8Array {
  const dev = new MemoryBlockDevice(new Uint8Array(MIN_VOLUME_BYTES));
  formatVolume(dev, { size: MIN_VOLUME_BYTES, label: "HOSTILE", serial: 1, now: new Date(2024, 0, 1) });
  const v = Volume.open(dev, { durability: "batch", now: () => new Date(2024, 0, 1) });
  v.writeFile("/A/BIG.BIN", bytes(5000, 1));
  v.writeFile("/A/SMALL.TXT", "small");
  v.writeFile("/EMPTY", "");
  for (let i = 0; i < 40; i++) v.writeFile(`/A/B/F${i}.TXT`, `file ${i}`);
  v.writeFile("/ROOT.TXT", bytes(1500, 2));
  v.close();
  return dev.bytes;
}


/** A second kind of image, made by the real tools: mkfs.fat's layout, long names, case bits. */
export function toolImage(file: (name: string) => string): Uint8Array {
  const img = file("tools.img");
  mkfsFat(img, 2100, ["-n", "TOOLS"]);
  mmd(img, "/Dir", "/Dir/sub");
  fs.writeFileSync(file("a long name.txt"), "long");
  fs.writeFileSync(file("lower.bin"), bytes(3000, 3));
  mcopy(img, [file("a long name.txt"), file("lower.bin")], "/Dir/");
  mcopy(img, [file("lower.bin")], "/");
  return Uint8Array.from(fs.readFileSync(img));
}
