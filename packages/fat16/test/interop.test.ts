import { expect } from "chai";
import fs from "node:fs";
import { checkVolume, Volume } from "../src/index.js";
import { bytes, fsck, mcopy, mdirBare, mkfsFat, mmd, mtype, run, runOk, tempDir, thrown } from "./tools.js";

describe("images made by mkfs.fat and mtools", function () {
  this.timeout(30_000);
  const t = tempDir();
  after(() => t.cleanup());

  /** A 16 MiB mkfs.fat volume filled by mmd/mcopy: lower-case names (NTRes case bits), long names, nested directories. */
  function toolImage(name: string, extra: string[] = []): { img: string; big: Uint8Array } {
    const img = t.file(name);
    mkfsFat(img, 16384, ["-n", "TOOLS", ...extra]);
    mmd(img, "/var", "/var/share", "/Mixed");
    const big = bytes(300_000, 7);
    fs.writeFileSync(t.file("proof.bin"), big);
    fs.writeFileSync(t.file("readme.txt"), "lower-case name\n");
    fs.writeFileSync(t.file("A long file name.txt"), "long name\n");
    fs.writeFileSync(t.file("UPPER.TXT"), "upper\n");
    mcopy(img, [t.file("proof.bin"), t.file("readme.txt")], "/var/share/");
    mcopy(img, [t.file("A long file name.txt"), t.file("UPPER.TXT")], "/");
    mcopy(img, [t.file("readme.txt")], "/Mixed/");
    return { img, big };
  }

  it("reads them: lower-case names stored with case bits, long-name entries skipped, contents identical", () => {
    const { img, big } = toolImage("tools.img");
    const v = Volume.open(img, { readOnly: true });
    expect(v.info().label).to.equal("TOOLS");
    expect(v.list("/").map((s) => s.name)).to.deep.equal(["VAR", "MIXED", "ALONGF~1.TXT", "UPPER.TXT"]);
    expect(v.list("/var/share").map((s) => `${s.name}:${s.size}`)).to.deep.equal(["PROOF.BIN:300000", "README.TXT:16"]);
    expect(Buffer.from(v.readFile("/var/share/proof.bin")).equals(big)).to.equal(true);
    expect(Buffer.from(v.readFile("/VAR/SHARE/README.TXT")).toString()).to.equal("lower-case name\n");
    expect(Buffer.from(v.readFile("/alongf~1.txt")).toString()).to.equal("long name\n");
    expect(v.usage().files).to.equal(5);
    v.close();
    expect(checkVolume(img).problems).to.deep.equal([]);
  });

  it("writes into them so that fsck.fat stays clean and mtools sees the changes", () => {
    const { img } = toolImage("tools-w.img");
    const v = Volume.open(img);
    v.writeFile("/var/share/proof.bin", "replaced"); // overwrite a file mcopy made (with case bits)
    v.remove("/alongf~1.txt"); // its long-name entries go too
    v.rename("/upper.txt", "/mixed/moved.txt");
    v.writeFile("/mixed/new.txt", "new");
    v.close();
    const r = fsck(img);
    expect(r.status, r.output).to.equal(0);
    expect(mtype(img, "/var/share/proof.bin").toString()).to.equal("replaced");
    expect(mtype(img, "/Mixed/moved.txt").toString()).to.equal("upper\n");
    const root = mdirBare(img, "/").join("\n");
    expect(root).to.not.match(/long/i);
    // No orphaned long-name entries: mdir would show the long name if any survived.
    expect(runOk("mdir", ["-i", img, "::/"]).toString()).to.not.include("long file name");
  });

  it("renaming a file drops its now-stale long-name entries", () => {
    const { img } = toolImage("tools-r.img");
    const v = Volume.open(img);
    v.rename("/alongf~1.txt", "/short.txt");
    v.close();
    const r = fsck(img);
    expect(r.status, r.output).to.equal(0);
    expect(runOk("mdir", ["-i", img, "::/"]).toString()).to.not.include("long file name");
    expect(mtype(img, "/SHORT.TXT").toString()).to.equal("long name\n");
  });

  it("handles 4096-byte sectors and mkfs.fat's 64 KiB clusters at 2 GiB", () => {
    for (const [name, kib, extra] of [
      ["s4k.img", 65536, ["-S", "4096"]],
      ["2g.img", 2 * 1024 * 1024, []],
    ] as const) {
      const img = t.file(name);
      mkfsFat(img, kib, extra);
      const v = Volume.open(img);
      const data = bytes(200_000, kib);
      v.writeFile("/sub/data.bin", data);
      v.appendFile("/sub/data.bin", "tail");
      v.close();
      const r = fsck(img);
      expect(r.status, r.output).to.equal(0);
      expect(mtype(img, "/SUB/DATA.BIN").equals(Buffer.concat([data, Buffer.from("tail")]))).to.equal(true);
      fs.rmSync(img);
    }
  });

  it("opens an MBR image with the FAT-16 partition at LBA 1 (the Valence layout)", () => {
    const img = t.file("mbr.img");
    const sectors = 8192; // 4 MiB partition
    fs.writeFileSync(img, new Uint8Array((sectors + 1) * 512));
    const mbr = new Uint8Array(512);
    const dv = new DataView(mbr.buffer);
    mbr[446 + 4] = 0x06; // FAT-16
    dv.setUint32(446 + 8, 1, true);
    dv.setUint32(446 + 12, sectors, true);
    mbr[510] = 0x55;
    mbr[511] = 0xaa;
    const fd = fs.openSync(img, "r+");
    fs.writeSync(fd, mbr, 0, 512, 0);
    fs.closeSync(fd);
    runOk("mkfs.fat", ["-F", "16", "-s", "1", "--offset", "1", "-n", "VALENCE", img, String(sectors / 2)]);
    fs.writeFileSync(t.file("in.txt"), "from mtools\n");
    runOk("mcopy", ["-i", `${img}@@512`, t.file("in.txt"), "::/IN.TXT"]);

    const v = Volume.open(img);
    expect(v.info()).to.include({ partition: 1, offset: 512, label: "VALENCE" });
    expect(Buffer.from(v.readFile("/in.txt")).toString()).to.equal("from mtools\n");
    v.writeFile("/out/proof.bin", "from zkguest\n");
    v.close();
    expect(mtype(img, "/OUT/PROOF.BIN", 512).toString()).to.equal("from zkguest\n");
    expect(Buffer.from(fs.readFileSync(img).subarray(0, 446)).every((b) => b === 0), "the MBR is untouched").to.equal(true);
    const part = t.file("part.img");
    fs.writeFileSync(part, fs.readFileSync(img).subarray(512));
    const r = fsck(part);
    expect(r.status, r.output).to.equal(0);
  });

  it("refuses FAT-12 and FAT-32 volumes as 'not FAT-16'", () => {
    const f12 = t.file("f12.img");
    fs.rmSync(f12, { force: true });
    runOk("mkfs.fat", ["-C", "-F", "12", f12, "1024"]);
    const e12 = thrown(() => Volume.open(f12, { readOnly: true }));
    expect(e12.code).to.equal("corrupt_volume");
    expect(e12.message).to.match(/^not FAT-16: .* FAT-12 volume/);
    const f32 = t.file("f32.img");
    fs.rmSync(f32, { force: true });
    runOk("mkfs.fat", ["-C", "-F", "32", "-s", "1", f32, String(64 * 1024)]);
    const e32 = thrown(() => Volume.open(f32, { readOnly: true }));
    expect(e32.code).to.equal("corrupt_volume");
    expect(e32.message).to.match(/^not FAT-16: this is a FAT-32 volume/);
    expect(() => checkVolume(f32)).to.throw(/not FAT-16/);
    expect(run("fsck.fat", ["-n", f32]).status).to.equal(0); // the image itself is fine
  });

  it("reads what a crash left (lost clusters, differing FATs) and repairs it when opened for writing", () => {
    const { img } = toolImage("crashy.img");
    // Simulate an interrupted writer: a lost chain in the first FAT only, and the dirty flag.
    const buf = fs.readFileSync(img);
    const rsvd = buf.readUInt16LE(14);
    const fat1 = rsvd * 512;
    buf.writeUInt16LE(3001, fat1 + 3000 * 2);
    buf.writeUInt16LE(0xffff, fat1 + 3001 * 2);
    buf[0x25] |= 1;
    fs.writeFileSync(img, buf);
    const before = fsck(img);
    expect(before.status).to.equal(1);
    expect(before.output).to.include("FATs differ");
    const problems = checkVolume(img).problems.map((p) => p.message).join("\n");
    expect(problems).to.include("lost clusters").and.include("FAT copies differ").and.include("not cleanly closed");
    expect(Volume.open(img, { readOnly: true }).info().cleanlyClosed).to.equal(false);
    Volume.open(img).close();
    const after = fsck(img);
    expect(after.status, after.output).to.equal(0);
  });
});
