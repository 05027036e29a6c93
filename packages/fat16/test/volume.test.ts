import { expect } from "chai";
import fc from "fast-check";
import fs from "node:fs";
import { ZkguestError } from "@zkguest/protocol";
import { checkVolume, formatVolume, MemoryBlockDevice, MIN_VOLUME_BYTES, Volume, type Durability } from "../src/index.js";
import { bytes, expectClean, fsck, mdirBare, mtype, tempDir, thrown } from "./tools.js";

/** The ZkguestError code `f` throws ("ok" if it returns). */
function outcome(f: () => void): string {
  try {
    f();
    return "ok";
  } catch (err) {
    if (err instanceof ZkguestError) return err.code;
    throw err;
  }
}

const text = (b: Uint8Array): string => Buffer.from(b).toString();

describe("volume operations", () => {
  const t = tempDir();
  after(() => t.cleanup());
  const fresh = (size = 8 * 2 ** 20, label?: string): string => t.image(size, label);

  it("writes, overwrites, appends and reads files that mtools reads back", () => {
    const img = fresh();
    const v = Volume.open(img);
    const big = bytes(70_000, 1);
    v.writeFile("/var/share/proof.bin", big);
    v.writeFile("/notes.txt", "first");
    v.writeFile("/notes.txt", "second, longer than the first");
    v.appendFile("/log.txt", "a".repeat(700));
    v.appendFile("/log.txt", "b".repeat(10));
    v.appendFile("/log.txt", "c".repeat(2000));
    v.writeFile("/empty", new Uint8Array(0));
    expect(Buffer.from(v.readFile("/VAR/Share/PROOF.BIN")).equals(big)).to.equal(true);
    expect(text(v.readFile("/notes.txt"))).to.equal("second, longer than the first");
    expect(text(v.readFile("/log.txt", { offset: 695, length: 20 }))).to.equal("aaaaabbbbbbbbbbccccc");
    expect(v.readFile("/log.txt", { offset: 5000 }).length).to.equal(0);
    v.close();
    expectClean(img);
    expect(mtype(img, "/var/share/proof.bin").equals(big)).to.equal(true);
    expect(mtype(img, "/NOTES.TXT").toString()).to.equal("second, longer than the first");
    expect(mtype(img, "/log.txt").toString()).to.equal("a".repeat(700) + "b".repeat(10) + "c".repeat(2000));
    expect(mtype(img, "/EMPTY").length).to.equal(0);
  });

  it("reports stat and list as SPEC.md §4.5 says, with DOS timestamps", () => {
    const img = fresh();
    const v = Volume.open(img, { now: () => new Date(2025, 5, 7, 8, 9, 11) });
    v.writeFile("/dir/file.txt", "12345");
    expect(v.stat("/dir/file.txt")).to.deep.equal({ name: "FILE.TXT", type: "file", size: 5, modified: "2025-06-07T08:09:10" });
    expect(v.stat("/dir")).to.deep.equal({ name: "DIR", type: "dir", size: 0, modified: "2025-06-07T08:09:10" });
    expect(v.stat("/").name).to.equal("/");
    expect(v.list("/").map((s) => s.name)).to.deep.equal(["DIR"]);
    expect(v.list("/dir")).to.have.length(1);
    v.close();
    const mdir = mdirBare(img, "/DIR");
    expect(mdir.some((l) => l.includes("FILE.TXT") || l.includes("FILE    TXT") || /FILE\s+TXT/.test(l))).to.equal(true);
  });

  it("timeZone utc stamps the clock's UTC fields, whatever the host's time zone", () => {
    const tzBefore = process.env.TZ;
    try {
      for (const tz of ["UTC", "Pacific/Kiritimati", "America/Los_Angeles"]) {
        process.env.TZ = tz;
        const img = fresh();
        const v = Volume.open(img, { now: () => new Date(Date.UTC(2024, 0, 1, 23, 30, 4)), timeZone: "utc" });
        v.writeFile("/dir/file.txt", "x");
        expect(v.stat("/dir/file.txt").modified, tz).to.equal("2024-01-01T23:30:04");
        expect(v.stat("/dir").modified, tz).to.equal("2024-01-01T23:30:04");
        v.close();
        expectClean(img);
      }
    } finally {
      if (tzBefore === undefined) delete process.env.TZ;
      else process.env.TZ = tzBefore;
    }
  });

  it("uses the protocol's error codes with messages that name the cause", () => {
    const img = fresh();
    const v = Volume.open(img);
    v.writeFile("/a/file", "x");
    expect(thrown(() => v.writeFile("/proof.json", "x")).message).to.equal("proof.json: extension 'json' has 4 characters, FAT-16 allows 3");
    expect(thrown(() => v.readFile("/nope")).code).to.equal("not_found");
    expect(thrown(() => v.readFile("/a/nope/x")).message).to.equal("/a/nope/x: 'nope' does not exist in /a");
    expect(thrown(() => v.readFile("/a/file/x")).message).to.equal("/a/file/x: 'file' is a file, not a directory");
    expect(thrown(() => v.readFile("/a")).code).to.equal("is_a_directory");
    expect(thrown(() => v.writeFile("/a", "x")).code).to.equal("is_a_directory");
    expect(thrown(() => v.writeFile("/a/file", "y", "create")).code).to.equal("already_exists");
    expect(thrown(() => v.list("/a/file")).code).to.equal("not_a_directory");
    expect(thrown(() => v.mkdir("/a")).code).to.equal("already_exists");
    expect(outcome(() => v.mkdir("/a", { parents: true }))).to.equal("ok");
    expect(thrown(() => v.mkdir("/a/file", { parents: true })).code).to.equal("already_exists");
    expect(thrown(() => v.mkdir("/x/y")).code).to.equal("not_found");
    expect(thrown(() => v.remove("/a")).code).to.equal("directory_not_empty");
    expect(thrown(() => v.remove("/")).code).to.equal("invalid_path");
    expect(thrown(() => v.rename("/a", "/a/b")).code).to.equal("invalid_path");
    expect(thrown(() => v.readFile("/../etc/passwd")).code).to.equal("invalid_path");
    expect(thrown(() => v.readFile("relative")).code).to.equal("invalid_path");
    v.close();
    expect(thrown(() => v.stat("/")).code).to.equal("invalid_state");
    const ro = Volume.open(img, { readOnly: true });
    expect(thrown(() => ro.writeFile("/z", "z")).code).to.equal("invalid_state");
    ro.close();
    expectClean(img);
  });

  it("renames in place and moves between directories, fixing '..'", () => {
    const img = fresh();
    const v = Volume.open(img);
    v.writeFile("/a/b/deep.txt", "deep");
    v.writeFile("/x.txt", "x");
    v.rename("/x.txt", "/y.txt");
    v.rename("/y.txt", "/a/y.txt");
    v.rename("/a/b", "/c");
    v.rename("/c", "/C"); // the same name, case-insensitively: nothing to do
    expect(thrown(() => v.rename("/a/y.txt", "/c/deep.txt")).code).to.equal("already_exists");
    expect(v.list("/").map((s) => s.name).sort()).to.deep.equal(["A", "C"]);
    expect(text(v.readFile("/c/deep.txt"))).to.equal("deep");
    expect(text(v.readFile("/a/y.txt"))).to.equal("x");
    v.close();
    expectClean(img);
    expect(mtype(img, "/C/DEEP.TXT").toString()).to.equal("deep");
  });

  it("removes files and empty directories and frees their clusters", () => {
    const img = fresh();
    const v = Volume.open(img);
    const before = v.usage().usedBytes;
    v.writeFile("/d/big.bin", bytes(100_000, 2));
    expect(v.usage().usedBytes).to.be.greaterThan(before + 100_000);
    v.remove("/d/big.bin");
    v.remove("/d");
    expect(v.usage().usedBytes).to.equal(before);
    expect(v.usage().files).to.equal(0);
    v.close();
    expectClean(img);
  });

  it("keeps the dirty flags set while open for writing and clears them on close", () => {
    const img = fresh();
    const v = Volume.open(img);
    v.writeFile("/f", "f");
    const r = fsck(img);
    expect(r.status).to.equal(1);
    expect(r.output).to.include("Dirty bit is set");
    v.close();
    expectClean(img);
    expect(Volume.open(img, { readOnly: true }).info().cleanlyClosed).to.equal(true);
  });

  it("fsync mode puts barriers between data+FAT, entries and frees; batch mode commits on flush; ordered mode never syncs", () => {
    const dev = new MemoryBlockDevice(new Uint8Array(MIN_VOLUME_BYTES));
    formatVolume(dev, { size: MIN_VOLUME_BYTES });
    const v = Volume.open(dev);
    let syncs = dev.syncs;
    v.writeFile("/a", "1");
    expect(dev.syncs - syncs, "create: after data+FAT, after the entry").to.equal(2);
    syncs = dev.syncs;
    v.remove("/a");
    expect(dev.syncs - syncs, "remove: after the entry, before freeing").to.equal(1);
    v.close();
    const b = Volume.open(dev, { durability: "batch" });
    syncs = dev.syncs;
    for (let i = 0; i < 100; i++) b.writeFile(`/f${i}`, `file ${i}`);
    expect(dev.syncs - syncs).to.equal(0);
    expect(text(b.readFile("/f42"))).to.equal("file 42");
    b.flush();
    expect(dev.syncs - syncs).to.equal(2);
    b.close();
    const again = Volume.open(dev, { readOnly: true });
    expect(again.list("/")).to.have.length(100);
    const ordered = Volume.open(dev, { durability: "ordered" });
    syncs = dev.syncs;
    ordered.writeFile("/o", "ordered");
    ordered.remove("/f1");
    ordered.close();
    expect(dev.syncs - syncs, "ordered durability never fsyncs").to.equal(0);
    expect(checkVolume(dev).problems).to.deep.equal([]);
  });

  describe("agrees with a model, fsck.fat and mtools over random operation sequences", function () {
    this.timeout(60_000);
    const NAMES = ["a", "B", "c.txt", "D.BIN", "e1"];
    const pathArb = fc.array(fc.constantFrom(...NAMES), { minLength: 1, maxLength: 3 }).chain((parts) =>
      fc.array(fc.boolean(), { minLength: parts.length, maxLength: parts.length }).map((lower) =>
        "/" + parts.map((p, i) => (lower[i] ? p.toLowerCase() : p.toUpperCase())).join("/"),
      ),
    );
    const sizeArb = fc.oneof(fc.integer({ min: 0, max: 600 }), fc.integer({ min: 0, max: 9000 }));
    const opArb = fc.oneof(
      fc.record({ op: fc.constant("write" as const), path: pathArb, size: sizeArb, seed: fc.nat(), mode: fc.constantFrom("create" as const, "overwrite" as const, "append" as const) }),
      fc.record({ op: fc.constant("mkdir" as const), path: pathArb, parents: fc.boolean() }),
      fc.record({ op: fc.constant("remove" as const), path: pathArb }),
      fc.record({ op: fc.constant("rename" as const), path: pathArb, to: pathArb }),
      fc.record({ op: fc.constant("reopen" as const) }),
    );
    type Op = typeof opArb extends fc.Arbitrary<infer T> ? T : never;

    type Node = { type: "dir" } | { type: "file"; data: Uint8Array };
    /** The model: upper-case path -> node (the root is implicit). */
    class Model {
      readonly nodes = new Map<string, Node>();
      private parentsOf(p: string): string[] {
        const parts = p.split("/").slice(1);
        return parts.slice(0, -1).map((_, i) => "/" + parts.slice(0, i + 1).join("/"));
      }
      private parentOf(p: string): string {
        return p.slice(0, p.lastIndexOf("/")) || "/";
      }
      private isDir(p: string): boolean {
        return p === "/" || this.nodes.get(p)?.type === "dir";
      }
      /** Walks the parents: the error a real walk would hit, and how many exist. */
      private walk(p: string, create: boolean): string | undefined {
        for (const q of this.parentsOf(p)) {
          const n = this.nodes.get(q);
          if (n === undefined) return create ? undefined : "not_found";
          if (n.type === "file") return "not_a_directory";
        }
        return undefined;
      }
      apply(op: Op): string {
        const P = "path" in op ? op.path.toUpperCase() : "";
        switch (op.op) {
          case "write": {
            const e = this.walk(P, true);
            if (e) return e;
            const cur = this.nodes.get(P);
            if (cur?.type === "dir") return "is_a_directory";
            if (cur && op.mode === "create") return "already_exists";
            for (const q of this.parentsOf(P)) if (!this.nodes.has(q)) this.nodes.set(q, { type: "dir" });
            const data = bytes(op.size, op.seed);
            const prev = cur?.type === "file" && op.mode === "append" ? cur.data : new Uint8Array(0);
            this.nodes.set(P, { type: "file", data: Buffer.concat([prev, data]) });
            return "ok";
          }
          case "mkdir": {
            const e = this.walk(P, true);
            if (e) return e;
            const missingParent = this.parentsOf(P).some((q) => !this.nodes.has(q));
            if (missingParent && !op.parents) return "not_found";
            const cur = this.nodes.get(P);
            if (cur) return cur.type === "dir" && op.parents ? "ok" : "already_exists";
            for (const q of [...this.parentsOf(P), P]) if (!this.nodes.has(q)) this.nodes.set(q, { type: "dir" });
            return "ok";
          }
          case "remove": {
            const e = this.walk(P, false);
            if (e) return e;
            const cur = this.nodes.get(P);
            if (!cur) return "not_found";
            if (cur.type === "dir" && [...this.nodes.keys()].some((k) => k.startsWith(P + "/"))) return "directory_not_empty";
            this.nodes.delete(P);
            return "ok";
          }
          case "rename": {
            const T = op.to.toUpperCase();
            const e = this.walk(P, false);
            if (e) return e;
            const cur = this.nodes.get(P);
            if (!cur) return "not_found";
            const e2 = this.walk(T, false);
            if (e2) return e2;
            if (!this.isDir(this.parentOf(T))) return "not_a_directory";
            if (T === P) return "ok";
            if (this.nodes.has(T)) return "already_exists";
            if (cur.type === "dir" && T.startsWith(P + "/")) return "invalid_path";
            for (const [k, n] of [...this.nodes]) {
              if (k === P || k.startsWith(P + "/")) {
                this.nodes.delete(k);
                this.nodes.set(T + k.slice(P.length), n);
              }
            }
            return "ok";
          }
          case "reopen":
            return "ok";
        }
      }
    }

    const runOps = (img: string, ops: Op[], durability: Durability): Model => {
      const model = new Model();
      let v = Volume.open(img, { durability });
      try {
        for (const op of ops) {
          const expected = model.apply(op);
          const got = outcome(() => {
            switch (op.op) {
              case "write":
                return void v.writeFile(op.path, bytes(op.size, op.seed), op.mode);
              case "mkdir":
                return v.mkdir(op.path, { parents: op.parents });
              case "remove":
                return v.remove(op.path);
              case "rename":
                return v.rename(op.path, op.to);
              case "reopen":
                v.close();
                v = Volume.open(img, { durability });
            }
          });
          expect(got, JSON.stringify(op)).to.equal(expected);
        }
        // The volume agrees with the model before closing...
        for (const [p, node] of model.nodes) {
          if (node.type === "file") expect(Buffer.from(v.readFile(p)).equals(node.data), p).to.equal(true);
          else expect(v.stat(p).type).to.equal("dir");
        }
        const u = v.usage();
        expect(u.files + u.directories).to.equal(model.nodes.size);
      } finally {
        v.close();
      }
      return model;
    };

    it("writes images fsck.fat finds clean and mtools reads identically", () => {
      let run = 0;
      fc.assert(
        fc.property(fc.array(opArb, { minLength: 1, maxLength: 40 }), fc.constantFrom<Durability>("fsync", "batch"), (ops, durability) => {
          const img = t.file(`model${run++}.img`);
          formatVolume(img, { size: MIN_VOLUME_BYTES });
          const model = runOps(img, ops, durability);
          const r = fsck(img);
          expect(r.status, r.output).to.equal(0);
          expect(checkVolume(img).problems).to.deep.equal([]);
          for (const [p, node] of model.nodes) {
            if (node.type === "file") expect(mtype(img, p).equals(Buffer.from(node.data)), `mtype ${p}`).to.equal(true);
          }
          const rootNames = mdirBare(img, "/").map((l) => l.replace(/^::\//, "").replace(/\/$/, "").toUpperCase());
          const modelRoot = [...model.nodes.keys()].filter((k) => k.lastIndexOf("/") === 0).map((k) => k.slice(1));
          expect(new Set(rootNames)).to.deep.equal(new Set(modelRoot));
          fs.rmSync(img);
        }),
        { numRuns: 40 },
      );
    });
  });
});
