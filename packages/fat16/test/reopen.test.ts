import { expect } from "chai";
import fs from "node:fs";
import { Volume, type FileBlockDevice } from "../src/index.js";
import { entryAt, regions, u16 } from "./images.js";
import { expectClean, mcopy, thrown, tempDir } from "./tools.js";

/**
 * Reopening an image this process closed cleanly skips the whole-volume check (verified.ts), and
 * anything that may have changed the image in between brings the check back.
 */
describe("reopening an image this process closed cleanly", () => {
  const t = tempDir();
  after(() => t.cleanup());

  /** An image with a few files and directories, closed cleanly by this process. */
  const prepared = (): string => {
    const img = t.image(8 * 2 ** 20);
    const v = Volume.open(img);
    expect(v.info().checkedAtOpen).to.equal(true);
    v.writeFile("/var/share/proof.bin", "proof");
    v.writeFile("/a/b.txt", "b");
    v.writeFile("/a/c.txt", "c");
    v.close();
    return img;
  };

  /** Makes /A/B.TXT and /A/C.TXT share a cluster, as a raw write to the image (both FAT copies). */
  const crossLink = (img: string): void => {
    const bytes = new Uint8Array(fs.readFileSync(img));
    const v = Volume.open(img, { readOnly: true });
    const dir = v.list("/a");
    v.close();
    expect(dir.map((s) => s.name)).to.deep.equal(["B.TXT", "C.TXT"]);
    // Both files are one cluster: make B's entry point at C's cluster.
    const r = regions(bytes);
    const aDir = r.cluster(u16(bytes, entryAt(bytes, r.root, "A          ") + 26));
    const cCluster = u16(bytes, entryAt(bytes, aDir, "C       TXT", 16) + 26);
    const bEntry = entryAt(bytes, aDir, "B       TXT", 16);
    const bCluster = u16(bytes, bEntry + 26);
    r.setFat(bCluster, 0);
    bytes[bEntry + 26] = cCluster & 0xff;
    bytes[bEntry + 27] = cCluster >> 8;
    const fd = fs.openSync(img, "r+");
    fs.writeSync(fd, bytes, 0, bytes.length, 0);
    fs.closeSync(fd);
  };

  it("skips the check and keeps the counts the quota needs", () => {
    const img = prepared();
    const v = Volume.open(img, { quota: { files: 7 } });
    expect(v.info().checkedAtOpen).to.equal(false);
    const u = v.usage();
    expect([u.files, u.directories]).to.deep.equal([3, 3]);
    v.writeFile("/d.txt", "d");
    expect(thrown(() => v.writeFile("/e.txt", "e")).code).to.equal("quota_exceeded");
    v.remove("/a/c.txt");
    v.close();
    const again = Volume.open(img, { quota: { files: 7 } });
    expect(again.info().checkedAtOpen).to.equal(false);
    expect([again.usage().files, again.usage().directories]).to.deep.equal([3, 3]);
    again.close();
    expectClean(img);
  });

  it("checks again after another tool wrote the image, and counts what it added", () => {
    const img = prepared();
    fs.writeFileSync(t.file("extra.txt"), "extra");
    mcopy(img, [t.file("extra.txt")], "/");
    const v = Volume.open(img);
    expect(v.info().checkedAtOpen).to.equal(true);
    expect(v.usage().files).to.equal(4);
    v.close();
  });

  it("refuses damage written right after the close", () => {
    const img = prepared();
    crossLink(img);
    const e = thrown(() => Volume.open(img));
    expect(e.code).to.equal("corrupt_volume");
    expect(e.message).to.match(/cross-linked/);
  });

  it("refuses damage written with the modification time put back (a restore that keeps times)", () => {
    const img = prepared();
    const before = fs.statSync(img, { bigint: true });
    crossLink(img);
    fs.utimesSync(img, before.atime, Number(before.mtimeNs + 500n) / 1e9);
    expect(fs.statSync(img, { bigint: true }).mtimeNs).to.equal(before.mtimeNs);
    const e = thrown(() => Volume.open(img));
    expect(e.code).to.equal("corrupt_volume");
  });

  it("checks again when the last writer did not close the volume", () => {
    const img = prepared();
    const dead = Volume.open(img);
    expect(dead.info().checkedAtOpen).to.equal(false);
    dead.writeFile("/a/new.txt", "new");
    // The writer dies with the volume open: its file is closed without the volume's close.
    (dead as unknown as { file: FileBlockDevice }).file.close();
    const v = Volume.open(img);
    expect(v.info().checkedAtOpen).to.equal(true);
    expect(v.info().cleanlyClosed).to.equal(false);
    expect(v.usage().files).to.equal(4);
    v.close();
    expectClean(img);
  });

  it("checks an image replaced by another file at the same path", () => {
    const img = prepared();
    const copy = t.file("copy.img");
    fs.copyFileSync(img, copy);
    fs.renameSync(copy, img);
    const v = Volume.open(img);
    expect(v.info().checkedAtOpen).to.equal(true);
    v.close();
  });
});
