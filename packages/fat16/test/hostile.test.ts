import { expect } from "chai";
import { Worker } from "node:worker_threads";
import { checkVolume, formatVolume, MemoryBlockDevice, Volume } from "../src/index.js";
import { baseImage, entryAt, put16, put32, regions, u16 } from "./images.js";
import { bytes, thrown } from "./tools.js";

const open = (img: Uint8Array, readOnly = true): Volume => Volume.open(new MemoryBlockDevice(img), { readOnly });
const problems = (img: Uint8Array): string => checkVolume(new MemoryBlockDevice(img)).problems.map((p) => `${p.path}: ${p.message}`).join("\n");

describe("hostile images", () => {
  const base = baseImage();
  const copy = (): Uint8Array => Uint8Array.from(base);
  const r = regions(base);
  const bigEntry = (img: Uint8Array): number => {
    const aCluster = u16(img, entryAt(img, r.root, "A          ") + 26);
    return entryAt(img, r.cluster(aCluster), "BIG     BIN", 16);
  };

  it("the base image is clean", () => {
    expect(problems(base)).to.equal("");
  });

  describe("boot sector nonsense is corrupt_volume naming the field", () => {
    const cases: [string, (img: Uint8Array) => void, RegExp][] = [
      ["bytes per sector 0", (b) => put16(b, 11, 0), /neither a FAT boot sector nor a partition table|bytes per sector is 0/],
      ["bytes per sector 1000", (b) => put16(b, 11, 1000), /neither a FAT boot sector|bytes per sector is 1000/],
      ["sectors per cluster 0", (b) => (b[13] = 0), /neither a FAT boot sector|sectors per cluster is 0/],
      ["sectors per cluster 3", (b) => (b[13] = 3), /neither a FAT boot sector|sectors per cluster is 3/],
      ["reserved sectors 0", (b) => put16(b, 14, 0), /reserved sector count is 0/],
      ["no FATs", (b) => (b[16] = 0), /neither a FAT boot sector|number of FATs is 0/],
      ["root entry count 0", (b) => put16(b, 17, 0), /root entry count is 0/],
      ["FAT-32 fields", (b) => (put16(b, 17, 0), put16(b, 22, 0)), /^not FAT-16: this is a FAT-32 volume/],
      ["total sectors 0", (b) => (put16(b, 19, 0), put32(b, 32, 0)), /total sector count is 0/],
      ["total beyond the file", (b) => (put16(b, 19, 0), put32(b, 32, 0xffffffff)), /describes .* bytes but the image holds only/],
      ["both totals, disagreeing", (b) => put32(b, 32, 1234), /total sector counts disagree/],
      ["FAT too small", (b) => put16(b, 22, 1), /too small for|not FAT-16/],
      ["huge FATs: products past the volume", (b) => (put16(b, 11, 4096), put16(b, 22, 0xffff)), /no data region|describes/],
      ["a FAT-12 cluster count", (b) => (b[13] = 8), /^not FAT-16: .* FAT-12 volume/],
      ["media byte 0x12", (b) => (b[21] = 0x12), /media byte 0x12/],
      ["no 0x55AA", (b) => (b[510] = 0), /0x55 0xAA signature is missing/],
    ];
    for (const [name, mutate, message] of cases) {
      it(name, () => {
        const img = copy();
        mutate(img);
        const e = thrown(() => open(img));
        expect(e.code).to.equal("corrupt_volume");
        expect(e.message).to.match(message);
      });
    }

    it("a truncated image", () => {
      const e = thrown(() => open(base.slice(0, 1_000_000)));
      expect(e.message).to.match(/describes 2,134,016 bytes but the image holds only 1,000,000/);
      expect(thrown(() => open(base.slice(0, 100))).message).to.match(/too short for a boot sector/);
    });

    it("the check reports a missing signature and a FAT[0] that does not match the media byte (fsck.fat -n does not)", () => {
      const img = copy();
      img[510] = 0;
      regions(img).setFat(0, 0xfff0);
      const found = problems(img);
      expect(found).to.include("0x55 0xAA signature is missing");
      expect(found).to.include("FAT[0] is 0xfff0, but the media byte 0xf8 requires 0xfff8");
    });
  });

  describe("damaged FAT chains are found, never followed", () => {
    const cases: [string, (img: Uint8Array, first: number) => void, RegExp][] = [
      ["a cycle", (b, c) => regions(b).setFat(c + 3, c + 1), /loops \(a cycle back to cluster \d+\)/],
      ["a next pointer to 0 (free)", (b, c) => regions(b).setFat(c + 2, 0), /is marked free in the FAT/],
      ["a next pointer to 1", (b, c) => regions(b).setFat(c + 2, 1), /points to 1, outside 2\.\.4102/],
      ["a next pointer past the end", (b, c) => regions(b).setFat(c + 2, 4103), /points to 4103, outside/],
      ["a reserved value", (b, c) => regions(b).setFat(c + 2, 0xfff3), /points to 65523, outside/],
      ["a bad-cluster mark inside", (b, c) => regions(b).setFat(c + 2, 0xfff7), /followed by the bad-cluster mark/],
      ["a first cluster past the end", (b) => put16(b, bigEntry(b) + 26, 5000), /first cluster 5000 is outside 2\.\.4102/],
      ["a size the chain cannot hold", (b) => put32(b, bigEntry(b) + 28, 0xffffffff), /size is 4,294,967,295 bytes/],
    ];
    for (const [name, mutate, message] of cases) {
      it(name, () => {
        const img = copy();
        const entry = bigEntry(img);
        mutate(img, u16(img, entry + 26));
        const v = open(img);
        expect(v.stat("/A/BIG.BIN").type).to.equal("file"); // listing does not need the chain
        const e = thrown(() => v.readFile("/A/BIG.BIN"));
        expect(e.code).to.equal("corrupt_volume");
        expect(e.message).to.match(/^\/A\/BIG.BIN: /);
        expect(e.message).to.match(message);
        expect(thrown(() => open(img, false)).message).to.match(/^cannot write to this volume: \/A\/BIG.BIN: /);
        expect(problems(img)).to.match(message);
      });
    }

    it("cross-linked files: readable, but writing is refused", () => {
      const img = copy();
      const root = entryAt(img, r.root, "ROOT    TXT");
      put16(img, root + 26, u16(img, bigEntry(img) + 26));
      expect(open(img).readFile("/ROOT.TXT").length).to.equal(1500);
      expect(thrown(() => open(img, false)).message).to.match(/cross-linked: cluster \d+ also belongs to \/(A\/BIG.BIN|ROOT.TXT)/);
    });

    it("FATs that differ: the first is used, the check says so, a writable open makes them equal", () => {
      const img = copy();
      regions(img).setFat(4000, 0xffff, [r.fat2]);
      expect(problems(img)).to.include("the FAT copies differ in 1 entries (first at cluster 4000)");
      open(img, false).close();
      expect(Buffer.from(img.subarray(r.fat1, r.fat2)).equals(Buffer.from(img.subarray(r.fat2, r.root)))).to.equal(true);
      expect(problems(img)).to.equal("");
    });

    it("a chain longer than the size (a crash during an append) is read by its size and trimmed when writing", () => {
      const img = copy();
      const e = bigEntry(img);
      put32(img, e + 28, 1000);
      expect(open(img).readFile("/A/BIG.BIN").length).to.equal(1000);
      expect(problems(img)).to.match(/size is 1,000 bytes \(2 clusters\) but the cluster chain goes on after cluster \d+/);
      // Even a broken link past the size (a FAT write cut between sectors) only makes lost clusters.
      regions(img).setFat(u16(img, e + 26) + 5, 0);
      expect(problems(img)).to.not.match(/marked free/);
      open(img, false).close();
      expect(problems(img)).to.equal("");
      expect(Buffer.from(open(img).readFile("/A/BIG.BIN")).equals(Buffer.from(bytes(5000, 1).subarray(0, 1000)))).to.equal(true);
    });
  });

  describe("damaged directories", () => {
    it("a directory that points back to its ancestor: listing terminates, the check names the loop", () => {
      const img = copy();
      const a = u16(img, entryAt(img, r.root, "A          ") + 26);
      const b = entryAt(img, r.cluster(a), "B          ", 16);
      put16(img, b + 26, a);
      const v = open(img);
      expect(v.list("/A/B").map((s) => s.name)).to.include("BIG.BIN"); // it shows /A's entries
      expect(v.list("/A/B/B/B/B").map((s) => s.name)).to.include("B");
      expect(problems(img)).to.include("/A/B: directory loop: its cluster");
      expect(thrown(() => open(img, false)).code).to.equal("corrupt_volume");
    });

    it("live entries after an end-of-directory marker are invisible, and reported (fsck.fat -n misses them)", () => {
      const img = copy();
      const emptyEntry = entryAt(img, r.root, "EMPTY      ");
      img[emptyEntry] = 0; // the end marker now comes before ROOT.TXT
      const v = open(img);
      expect(v.list("/").map((s) => s.name)).to.not.include("ROOT.TXT");
      expect(thrown(() => v.stat("/ROOT.TXT")).code).to.equal("not_found");
      expect(problems(img)).to.match(/holds the live entry 'ROOT.TXT' after the end-of-directory marker/);
      expect(thrown(() => open(img, false)).message).to.match(/end-of-directory marker/);
      // Hidden behind other non-zero slots (a deleted entry, long-name parts) it is still found.
      const img2 = copy();
      img2[entryAt(img2, r.root, "A          ")] = 0;
      img2[entryAt(img2, r.root, "EMPTY      ")] = 0xe5;
      expect(problems(img2)).to.match(/slot 2 is not zero although it comes after the end-of-directory marker at slot 1/);
      expect(problems(img2)).to.match(/holds the live entry 'ROOT.TXT' after the end-of-directory marker/);
      expect(thrown(() => open(img2, false)).code).to.equal("corrupt_volume");
    });

    it("duplicate names and lower-case bytes are reported", () => {
      const img = copy();
      const rootTxt = entryAt(img, r.root, "ROOT    TXT");
      img.set(Buffer.from("EMPTY      ", "latin1"), rootTxt);
      const small = bigEntry(img) + 32;
      img[small + 1] = "m".charCodeAt(0);
      const found = problems(img);
      expect(found).to.include("/EMPTY: duplicate name in the same directory");
      expect(found).to.include("short name 'SmALL.TXT' has lower-case letters");
      expect(open(img).readFile("/a/small.txt").length).to.equal(5); // still found, case-insensitively
    });

    it("a directory chain that loops, or runs past 65,536 entries, is refused", () => {
      const img = copy();
      const rr = regions(img);
      const a = u16(img, entryAt(img, r.root, "A          ") + 26);
      const b = u16(img, entryAt(img, r.cluster(a), "B          ", 16) + 26);
      const second = u16(img, rr.fat1 + 2 * b); // /A/B spans a few clusters: send its second back to its first
      rr.setFat(second, b);
      expect(thrown(() => open(img).list("/A/B")).message).to.match(/^\/A\/B: cluster chain from \d+ loops/);
      expect(problems(img)).to.match(/\/A\/B: cluster chain from \d+ loops/);
      // 16 entries per cluster: 4,097 clusters hold more than 65,536.
      const dev = new MemoryBlockDevice(new Uint8Array(16 * 2 ** 20));
      formatVolume(dev, { size: dev.byteLength });
      const v = Volume.open(dev);
      v.mkdir("/LONG");
      v.close();
      const big = regions(dev.bytes);
      const first = u16(dev.bytes, entryAt(dev.bytes, big.root, "LONG       ") + 26);
      big.setFat(first, 100);
      for (let c = 100; c < 100 + 4200; c++) big.setFat(c, c + 1);
      big.setFat(4300, 0xffff);
      expect(thrown(() => open(dev.bytes).list("/LONG")).message).to.match(/longer than 65,536 entries/);
    });

    it("a huge claimed size never becomes an allocation", () => {
      const img = copy();
      const e = entryAt(img, r.root, "ROOT    TXT");
      put32(img, e + 28, 0xfffffff0);
      const before = process.memoryUsage().arrayBuffers;
      expect(thrown(() => open(img).readFile("/ROOT.TXT")).code).to.equal("corrupt_volume");
      expect(process.memoryUsage().arrayBuffers - before).to.be.below(64 * 2 ** 20);
      expect(open(img).stat("/ROOT.TXT").size).to.equal(0xfffffff0);
    });
  });

  describe("fuzzing: fast-check mutations of valid images (FAT16_FUZZ_RUNS, default 300; FAT16_FUZZ_SEED replays)", function () {
    this.timeout(300_000);
    it("never throws anything but a typed ZkguestError, never hangs, and leaves what it wrote consistent", async () => {
      const runs = Number(process.env["FAT16_FUZZ_RUNS"] ?? 300);
      const worker = new Worker(new URL("./fuzz-worker.js", import.meta.url), { workerData: { runs } });
      const limitMs = 200 * runs + 30_000;
      const result = await new Promise<{ ok: boolean; message?: string }>((resolve, reject) => {
        const timer = setTimeout(() => {
          void worker.terminate();
          reject(new Error(`a mutated image made the store hang: ${runs} runs did not finish in ${limitMs / 1000} s`));
        }, limitMs);
        worker.once("message", (m: { ok: boolean; message?: string }) => {
          clearTimeout(timer);
          resolve(m);
        });
        worker.once("error", (e) => {
          clearTimeout(timer);
          reject(e);
        });
      });
      await worker.terminate();
      if (!result.ok) throw new Error(result.message);
    });
  });
});
