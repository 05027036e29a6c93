import { expect } from "chai";
import fc from "fast-check";
import { either as E } from "fp-ts";
import fs from "node:fs";
import { formatVolume, MAX_VOLUME_BYTES, MIN_VOLUME_BYTES, Volume } from "../src/index.js";
import { chooseLayout, MAX_FORMAT_CLUSTERS, MIN_FORMAT_CLUSTERS } from "../src/geometry.js";
import { fsck, mcopy, mtype, run, tempDir } from "./tools.js";

describe("geometry", () => {
  it("keeps the cluster count inside the FAT-16 margin with the smallest clusters that do", () => {
    fc.assert(
      fc.property(fc.integer({ min: MIN_VOLUME_BYTES / 512, max: MAX_VOLUME_BYTES / 512 }), (sectors) => {
        const r = chooseLayout(sectors * 512);
        if (E.isLeft(r)) throw new Error(r.left.message);
        const l = r.right;
        expect(l.clusterCount).to.be.within(MIN_FORMAT_CLUSTERS, MAX_FORMAT_CLUSTERS);
        expect(l.sectorsPerCluster).to.be.oneOf([1, 2, 4, 8, 16, 32, 64]);
        expect(l.sectorsPerFat * 512).to.be.at.least((l.clusterCount + 2) * 2);
        expect(l.dataOffset % l.clusterBytes, "data region aligned to a cluster").to.equal(0);
        expect(l.reservedSectors).to.be.within(1, 0xffff);
        expect(l.dataOffset + l.clusterCount * l.clusterBytes).to.be.at.most(sectors * 512);
        if (l.sectorsPerCluster > 1) {
          const smaller = Math.floor((sectors - l.dataOffset / 512) / (l.sectorsPerCluster / 2));
          expect(smaller, "half-size clusters would not fit the margin").to.be.greaterThan(MAX_FORMAT_CLUSTERS);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("refuses sizes outside the FAT-16 range, saying why", () => {
    const below = chooseLayout(MIN_VOLUME_BYTES - 512);
    expect(E.isLeft(below) && below.left.code).to.equal("limit_exceeded");
    expect(E.isLeft(below) && below.left.message).to.match(/below the FAT-16 minimum/);
    const above = chooseLayout(MAX_VOLUME_BYTES + 512);
    expect(E.isLeft(above) && above.left.message).to.match(/above the FAT-16 maximum/);
    expect(E.isRight(chooseLayout(MIN_VOLUME_BYTES))).to.equal(true);
    expect(MIN_VOLUME_BYTES).to.be.below(2_141_184, "the Valence coprocessor's minimum must fit");
  });

  describe("formatted images pass fsck.fat and mtools", function () {
    this.timeout(60_000);
    const t = tempDir();
    after(() => t.cleanup());
    const sizes = [MIN_VOLUME_BYTES, 2_141_184, 3 * 2 ** 20, 16 * 2 ** 20 + 7 * 512, 64 * 2 ** 20, 700 * 2 ** 20, MAX_VOLUME_BYTES];
    for (const size of sizes) {
      it(`${size.toLocaleString("en-US")} bytes`, () => {
        const img = t.file(`f${size}.img`);
        formatVolume(img, { size, label: "zk test", serial: 0x1234abcd });
        const st = fs.statSync(img);
        expect(st.size).to.equal(size);
        expect(st.blocks * 512, "sparse").to.be.below(2 ** 20);
        const r = fsck(img);
        expect(r.status, r.output).to.equal(0);
        const layout = E.getOrElseW(() => undefined)(chooseLayout(size))!;
        expect(run("fsck.fat", ["-n", "-v", img]).stdout.toString()).to.include(`${layout.clusterCount} data clusters`);
        const minfo = run("minfo", ["-i", img, "::"]).stdout.toString();
        expect(minfo).to.match(/serial number: 1234ABCD/i);
        expect(minfo).to.match(/label="ZK TEST    "/i);
        // mtools writes into it, we read it back, and the other way round.
        const local = t.file("hello.txt");
        fs.writeFileSync(local, `hello ${size}\n`);
        mcopy(img, [local], "/HELLO.TXT");
        const v = Volume.open(img);
        expect(Buffer.from(v.readFile("/hello.txt")).toString()).to.equal(`hello ${size}\n`);
        v.writeFile("/dir/ours.txt", `ours ${size}\n`);
        v.close();
        expect(mtype(img, "/DIR/OURS.TXT").toString()).to.equal(`ours ${size}\n`);
        expect(fsck(img).status).to.equal(0);
        fs.rmSync(img);
      });
    }
  });

  it("refuses to format over an existing file", () => {
    const t = tempDir();
    try {
      const img = t.file("x.img");
      fs.writeFileSync(img, "precious");
      expect(() => formatVolume(img, { size: 4 * 2 ** 20 })).to.throw(/already exists/);
      expect(fs.readFileSync(img, "utf8")).to.equal("precious");
    } finally {
      t.cleanup();
    }
  });
});
