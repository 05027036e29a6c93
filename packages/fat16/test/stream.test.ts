import { expect } from "chai";
import { MemoryBlockDevice, MIN_VOLUME_BYTES, formatVolume, Volume } from "../src/index.js";
import { baseImage, entryAt, regions, u16 } from "./images.js";
import { bytes, expectClean, mtype, tempDir, thrown } from "./tools.js";

const MiB = 2 ** 20;

/** Writes `data` through a FileWriter in pieces of the given sizes (cycled). */
function writeInPieces(v: Volume, path: string, data: Uint8Array, pieces: readonly number[], mode: "create" | "overwrite" = "overwrite"): void {
  const w = v.createWriter(path, mode);
  for (let at = 0, i = 0; at < data.length; i++) {
    const n = pieces[i % pieces.length]!;
    w.write(data.subarray(at, at + n));
    at += n;
  }
  w.finish();
}

const concat = (chunks: Iterable<Uint8Array>): Buffer => Buffer.concat(Array.from(chunks, (c) => Buffer.from(c)));

describe("streaming: FileWriter and readChunks", () => {
  const t = tempDir();
  after(() => t.cleanup());

  it("writes a file from pieces of any size that mtools reads back identically", () => {
    const img = t.image(16 * MiB);
    const v = Volume.open(img);
    const data = bytes(3 * MiB + 12_345, 7);
    writeInPieces(v, "/big/data.bin", data, [1, 100, 70_000, 2 * MiB + 3, 4096]);
    writeInPieces(v, "/one.bin", bytes(5, 1), [5]);
    const empty = v.createWriter("/empty.bin");
    expect(empty.finish().size).to.equal(0);
    expect(v.stat("/big/data.bin").size).to.equal(data.length);
    v.close();
    expectClean(img);
    expect(mtype(img, "/BIG/DATA.BIN").equals(Buffer.from(data))).to.equal(true);
    expect(mtype(img, "/ONE.BIN").equals(Buffer.from(bytes(5, 1)))).to.equal(true);
    expect(mtype(img, "/EMPTY.BIN").length).to.equal(0);
  });

  it("keeps the old content until finish, and gives it back on abort", () => {
    const dev = new MemoryBlockDevice(new Uint8Array(MIN_VOLUME_BYTES));
    formatVolume(dev, { size: MIN_VOLUME_BYTES });
    const v = Volume.open(dev);
    v.writeFile("/f.bin", "old");
    const used = v.usage().usedBytes;
    const w = v.createWriter("/f.bin");
    w.write(bytes(50_000, 2));
    expect(Buffer.from(v.readFile("/f.bin")).toString()).to.equal("old");
    w.abort();
    expect(Buffer.from(v.readFile("/f.bin")).toString()).to.equal("old");
    expect(v.usage().usedBytes).to.equal(used);
    const again = v.createWriter("/f.bin");
    again.write(bytes(50_000, 3));
    again.finish();
    expect(Buffer.from(v.readFile("/f.bin")).equals(Buffer.from(bytes(50_000, 3)))).to.equal(true);
    v.close();
  });

  it("checks space and quota as the content grows, and drops what was written when they run out", () => {
    const dev = new MemoryBlockDevice(new Uint8Array(MIN_VOLUME_BYTES));
    formatVolume(dev, { size: MIN_VOLUME_BYTES });
    const v = Volume.open(dev, { quota: { bytes: 1_000_000 } });
    v.writeFile("/keep.bin", "keep");
    const used = v.usage().usedBytes;
    const w = v.createWriter("/keep.bin");
    const e = thrown(() => {
      for (let i = 0; i < 10; i++) w.write(bytes(300_001, i));
      w.finish();
    });
    expect(e.code).to.equal("quota_exceeded");
    expect(e.message).to.match(/writing [\d,]+ bytes to \/keep\.bin would use .* above the volume's quota of 1,000,000 bytes/);
    expect(v.usage().usedBytes).to.equal(used);
    expect(thrown(() => w.finish()).code).to.equal("invalid_state");
    expect(Buffer.from(v.readFile("/keep.bin")).toString()).to.equal("keep");

    const big = Volume.open(new MemoryBlockDevice(Uint8Array.from(dev.bytes)));
    v.close();
    const full = big.createWriter("/full.bin");
    expect(thrown(() => { for (let i = 0; i < 10; i++) full.write(bytes(MiB, i)); }).code).to.equal("no_space");
    expect(big.usage().usedBytes).to.equal(used);
    big.close();
  });

  it("holds an overwrite to the quota as a whole, however its parts fall", () => {
    const dev = new MemoryBlockDevice(new Uint8Array(8 * MiB));
    formatVolume(dev, { size: 8 * MiB });
    const probe = Volume.open(dev);
    probe.writeFile("/f.bin", bytes(600_000, 1));
    const used = probe.usage().usedBytes;
    probe.close();
    // The first part replaces less than the old file; the last, small one takes it over the quota.
    const v = Volume.open(dev, { quota: { bytes: used + 500_000 } });
    const w = v.createWriter("/f.bin");
    const e = thrown(() => {
      w.write(bytes(MiB, 2));
      w.write(bytes(400_000, 3));
      w.finish();
    });
    expect(e.code).to.equal("quota_exceeded");
    expect(v.stat("/f.bin").size).to.equal(600_000);
    expect(v.usage().usedBytes).to.equal(used);
    v.close();
  });

  it("refuses other changes while a writer is open; closing the volume aborts it", () => {
    const img = t.image(8 * MiB);
    const v = Volume.open(img);
    v.writeFile("/a.txt", "a");
    const w = v.createWriter("/b.txt");
    w.write(bytes(10_000, 6));
    expect(thrown(() => v.writeFile("/c.txt", "c")).code).to.equal("invalid_state");
    expect(thrown(() => v.remove("/a.txt")).code).to.equal("invalid_state");
    expect(thrown(() => v.createWriter("/d.txt")).message).to.match(/a writer of \/b\.txt is open/);
    expect(Buffer.from(v.readFile("/a.txt")).toString()).to.equal("a");
    v.close();
    expect(thrown(() => w.write(bytes(1, 1))).code).to.equal("invalid_state");
    expectClean(img);
    const r = Volume.open(img, { readOnly: true });
    expect(r.list("/").map((s) => s.name)).to.deep.equal(["A.TXT"]);
    r.close();
  });

  it("create refuses an existing file before anything is written", () => {
    const dev = new MemoryBlockDevice(new Uint8Array(MIN_VOLUME_BYTES));
    formatVolume(dev, { size: MIN_VOLUME_BYTES });
    const v = Volume.open(dev);
    v.writeFile("/x", "x");
    expect(thrown(() => v.createWriter("/x", "create")).code).to.equal("already_exists");
    expect(thrown(() => v.createWriter("/")).code).to.equal("is_a_directory");
    v.close();
  });

  it("reads a file in chunks of whole clusters, the same bytes as readFile", () => {
    const dev = new MemoryBlockDevice(new Uint8Array(MIN_VOLUME_BYTES));
    formatVolume(dev, { size: MIN_VOLUME_BYTES });
    const v = Volume.open(dev);
    const data = bytes(300_001, 8);
    v.writeFile("/f.bin", data);
    v.writeFile("/empty", "");
    const sizes: number[] = [];
    const got = concat(Array.from(v.readChunks("/f.bin", 100_000), (c) => (sizes.push(c.length), Buffer.from(c))));
    expect(got.equals(Buffer.from(data))).to.equal(true);
    const cb = v.info().clusterBytes;
    expect(sizes.slice(0, -1).every((n) => n === Math.floor(100_000 / cb) * cb)).to.equal(true);
    expect(concat(v.readChunks("/empty")).length).to.equal(0);
    expect(thrown(() => v.readChunks("/")).code).to.equal("is_a_directory");
    expect(thrown(() => v.readChunks("/none")).code).to.equal("not_found");
    v.close();
  });

  it("a change between chunks fails the next chunk instead of reading freed clusters", () => {
    const dev = new MemoryBlockDevice(new Uint8Array(MIN_VOLUME_BYTES));
    formatVolume(dev, { size: MIN_VOLUME_BYTES });
    const v = Volume.open(dev);
    v.writeFile("/f.bin", bytes(200_000, 9));
    const chunks = v.readChunks("/f.bin", 4096)[Symbol.iterator]();
    expect(chunks.next().done).to.equal(false);
    v.remove("/f.bin");
    v.writeFile("/g.bin", bytes(200_000, 10));
    expect(thrown(() => chunks.next()).message).to.match(/changed while the file was being read/);
    v.close();
  });

  it("a damaged chain is corrupt_volume before the first chunk", () => {
    const img = baseImage();
    const r = regions(img);
    const aDir = r.cluster(u16(img, entryAt(img, r.root, "A          ") + 26));
    const first = u16(img, entryAt(img, aDir, "BIG     BIN", 16) + 26);
    r.setFat(first + 2, first); // a cycle back to the start
    const v = Volume.open(new MemoryBlockDevice(img), { readOnly: true });
    const e = thrown(() => v.readChunks("/A/BIG.BIN"));
    expect(e.code).to.equal("corrupt_volume");
    expect(e.message).to.match(/loops/);
    v.close();
  });
});
