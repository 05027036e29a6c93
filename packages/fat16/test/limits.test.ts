import { expect } from "chai";
import { checkVolume, formatVolume, MemoryBlockDevice, MIN_VOLUME_BYTES, Volume } from "../src/index.js";
import { bytes, expectClean, mdirBare, mtype, tempDir, thrown } from "./tools.js";

describe("limits", function () {
  this.timeout(60_000);
  const t = tempDir();
  after(() => t.cleanup());
  const fresh = (size = MIN_VOLUME_BYTES, label?: string): string => t.image(size, label);

  it("the root directory holds 512 entries; the 513th is directory_full", () => {
    const img = fresh();
    const v = Volume.open(img, { durability: "batch" });
    for (let i = 0; i < 512; i++) v.writeFile(`/F${i}`, `${i}`);
    const e = thrown(() => v.writeFile("/ONEMORE", "x"));
    expect(e.code).to.equal("directory_full");
    expect(e.message).to.equal("/ONEMORE: the root directory's 512 entries are all used (the FAT-16 root cannot grow)");
    expect(thrown(() => v.mkdir("/DIR")).code).to.equal("directory_full");
    expect(thrown(() => v.writeFile("/NEW/FILE", "x")).code).to.equal("directory_full");
    v.writeFile("/F7", "overwriting needs no new entry");
    v.remove("/F0");
    v.writeFile("/REUSED", "a deleted slot is reused");
    v.close();
    expectClean(img);
    expect(mdirBare(img, "/")).to.have.length(512);
    expect(mtype(img, "/REUSED").toString()).to.equal("a deleted slot is reused");
  });

  it("a volume label takes one of the root's 512 entries", () => {
    const img = fresh(MIN_VOLUME_BYTES, "LABELLED");
    const v = Volume.open(img, { durability: "batch" });
    for (let i = 0; i < 511; i++) v.writeFile(`/F${i}`, "");
    expect(thrown(() => v.writeFile("/F511", "")).code).to.equal("directory_full");
    v.close();
    expectClean(img);
  });

  it("subdirectories grow cluster by cluster", () => {
    const img = fresh(); // 512-byte clusters: 16 entries each
    const v = Volume.open(img, { durability: "batch" });
    for (let i = 0; i < 2000; i++) v.writeFile(`/SUB/F${i}.TXT`, `file ${i}`);
    expect(v.list("/sub")).to.have.length(2000);
    v.close();
    expectClean(img);
    expect(mtype(img, "/SUB/F1999.TXT").toString()).to.equal("file 1999");
    expect(mdirBare(img, "/SUB")).to.have.length(2000);
  });

  it("a subdirectory holds at most 65,536 entries", () => {
    // In memory and checked by our own check: fsck.fat takes seconds on a directory this large.
    const dev = new MemoryBlockDevice(new Uint8Array(16 * 2 ** 20));
    formatVolume(dev, { size: dev.byteLength });
    const v = Volume.open(dev, { durability: "batch" });
    // '.' and '..' plus 65,534 names fill it.
    for (let i = 0; i < 65534; i++) v.writeFile(`/SUB/${i.toString(36).toUpperCase()}`, new Uint8Array(0));
    const e = thrown(() => v.writeFile("/SUB/LAST", ""));
    expect(e.code).to.equal("directory_full");
    expect(e.message).to.equal("/SUB/LAST: the directory has the FAT maximum of 65,536 entries");
    v.close();
    expect(checkVolume(dev).problems).to.deep.equal([]);
    expect(Volume.open(dev, { readOnly: true }).list("/SUB")).to.have.length(65534);
  });

  it("out of space is a clear error and leaves the volume consistent", () => {
    const img = fresh();
    const v = Volume.open(img);
    const free = v.usage().freeBytes;
    const cb = v.usage().clusterBytes;
    const keep = bytes(free - 10 * cb, 3);
    v.writeFile("/keep.bin", keep);
    const e = thrown(() => v.writeFile("/dir/big.bin", bytes(20 * cb, 4)));
    expect(e.code).to.equal("no_space");
    expect(e.message).to.match(/^writing 10,240 bytes to \/dir\/big.bin needs 21 free clusters of 512 bytes; the volume has 10$/);
    // Copy-on-write needs room for both copies; the old content survives the refusal.
    const cow = thrown(() => v.writeFile("/keep.bin", bytes(keep.length, 5)));
    expect(cow.code).to.equal("no_space");
    expect(cow.message).to.include("copy-on-write");
    v.writeFile("/exact.bin", bytes(10 * cb, 6)); // exactly what is left
    expect(v.usage().freeBytes).to.equal(0);
    expect(thrown(() => v.appendFile("/exact.bin", "x")).code).to.equal("no_space");
    expect(thrown(() => v.mkdir("/d")).code).to.equal("no_space");
    v.writeFile("/empty.txt", ""); // needs no cluster
    v.close();
    expectClean(img);
    expect(mtype(img, "/keep.bin").equals(Buffer.from(keep))).to.equal(true);
  });

  it("enforces a byte and file quota", () => {
    const img = fresh(4 * 2 ** 20);
    const cb = Volume.open(img, { readOnly: true }).usage().clusterBytes;
    const v = Volume.open(img, { quota: { bytes: 20 * cb, files: 3 } });
    v.writeFile("/a.bin", bytes(15 * cb, 1));
    const e = thrown(() => v.writeFile("/b.bin", bytes(6 * cb, 2)));
    expect(e.code).to.equal("quota_exceeded");
    expect(e.message).to.equal("writing 3,072 bytes to /b.bin would use 10,752 bytes, above the volume's quota of 10,240 bytes");
    v.writeFile("/a.bin", bytes(19 * cb, 3)); // replacing counts the space freed
    v.writeFile("/b.bin", bytes(cb, 4));
    expect(thrown(() => v.mkdir("/dir")).code).to.equal("quota_exceeded");
    v.remove("/b.bin");
    v.mkdir("/dir");
    v.writeFile("/dir/c", "");
    const f = thrown(() => v.writeFile("/dir/d", ""));
    expect(f.code).to.equal("quota_exceeded");
    expect(f.message).to.equal("writing 0 bytes to /dir/d would make 4 files and directories, above the volume's quota of 3");
    v.writeFile("/a.bin", bytes(10 * cb, 5));
    v.writeFile("/dir/c", "overwriting is not a new file");
    expect(v.usage().quota).to.deep.equal({ bytes: 20 * cb, files: 3 });
    v.close();
    expectClean(img);
  });
});
