import { expect } from "chai";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { lockImage } from "@zkguest/fat16";
import { BIN } from "./cli-process.js";

const ENV = { ...process.env, MTOOLS_SKIP_CHECK: "1" };

interface Run {
  readonly status: number;
  readonly stdout: Buffer;
  readonly stderr: string;
}

function zk(args: string[], input?: Uint8Array): Run {
  const r = spawnSync(process.execPath, [BIN, "fs", ...args], { input, env: ENV, maxBuffer: 64 * 2 ** 20 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr.toString() };
}

function ok(args: string[], input?: Uint8Array): Buffer {
  const r = zk(args, input);
  expect(r.status, `zkguest fs ${args.join(" ")}: ${r.stderr}`).to.equal(0);
  expect(r.stderr).to.equal("");
  return r.stdout;
}

function tool(cmd: string, args: string[]): Run {
  const r = spawnSync(cmd, args, { env: ENV, maxBuffer: 64 * 2 ** 20 });
  if (r.error) throw new Error(`${cmd}: ${r.error.message} (install dosfstools and mtools)`);
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr.toString() };
}

describe("zkguest fs", function () {
  this.timeout(30_000);
  let dir: string;
  let img: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "zkguest-cli-fs-"));
    img = path.join(dir, "disk.img");
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const fsckClean = (image: string): void => {
    const r = tool("fsck.fat", ["-n", image]);
    expect(r.status, r.stdout.toString()).to.equal(0);
  };

  it("mkfs makes an image fsck.fat accepts, and refuses to overwrite one", () => {
    expect(ok(["mkfs", img, "--size", "3M", "--label", "demo"]).toString()).to.match(/FAT-16, 3,145,728 bytes, .* label DEMO/);
    expect(fs.statSync(img).size).to.equal(3 * 2 ** 20);
    fsckClean(img);
    const again = zk(["mkfs", img]);
    expect(again.status).to.equal(1);
    expect(again.stderr).to.match(/^zkguest: already_exists: image '.*' already exists/);
  });

  it("cat to a terminal shows a text file as escaped text, a binary one as a hex dump saying so; to a pipe, the raw bytes", () => {
    const image = path.join(dir, "tty.img");
    ok(["mkfs", image, "--size", "3M"]);
    ok(["put", image, "-", "/note.txt"], Buffer.from("one\ttwo\nzkguest: ok \u202e\n"));
    ok(["put", image, "-", "/esc.txt"], Buffer.from("\u001b[2Kfake"));
    // In a pseudo-terminal (script(1)): stdout is a TTY there, and its line breaks come out as CRLF.
    const onTerminal = (file: string): string => {
      const r = spawnSync("script", ["-qec", `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} fs cat ${JSON.stringify(image)} ${file}`, "/dev/null"], { env: ENV, encoding: "utf8" });
      expect(r.status, r.stderr).to.equal(0);
      return r.stdout.replace(/\r\n/g, "\n");
    };
    expect(onTerminal("/note.txt")).to.equal("one\\ttwo\nzkguest: ok \\u202e\n");
    expect(onTerminal("/esc.txt")).to.equal("zkguest: /esc.txt is binary (8 bytes), shown as hex; redirect stdout for its bytes\n00000000  1b 5b 32 4b 66 61 6b 65                          |.[2Kfake|\n");
    expect(ok(["cat", image, "/esc.txt"]).toString()).to.equal("\u001b[2Kfake");
  });

  it("put, cat, ls, info: raw bytes in and out, identical to mtype", () => {
    const data = Buffer.alloc(1 << 20);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) >>> 3;
    const local = path.join(dir, "proof.bin");
    fs.writeFileSync(local, data);
    ok(["put", img, local, "/var/share/proof.bin"]);
    ok(["put", img, "-", "/var/log.txt", "--sync"], Buffer.from("from stdin\n"));
    expect(ok(["cat", img, "/var/share/proof.bin"]).equals(data)).to.equal(true);
    expect(ok(["cat", img, "/VAR/LOG.TXT"]).toString()).to.equal("from stdin\n");
    expect(tool("mtype", ["-i", img, "::/var/share/proof.bin"]).stdout.equals(data)).to.equal(true);
    const ls = ok(["ls", img, "/var"]).toString();
    expect(ls).to.match(/^d\s+0\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\s+SHARE\/$/m);
    expect(ls).to.match(/^-\s+11\s+\S+\s+LOG\.TXT$/m);
    const entries = JSON.parse(ok(["ls", img, "/var/share", "--json"]).toString());
    expect(entries).to.have.length(1);
    expect(entries[0]).to.include({ name: "PROOF.BIN", type: "file", size: data.length });
    expect(JSON.parse(ok(["ls", img, "/var/log.txt", "--json"]).toString())[0].name).to.equal("LOG.TXT");
    const info = JSON.parse(ok(["info", img, "--json"]).toString());
    expect(info).to.include({ label: "DEMO", volumeBytes: 3 * 2 ** 20, files: 2, directories: 2, cleanlyClosed: true });
    expect(ok(["info", img]).toString()).to.match(/^label:\s+DEMO$/m);
    fsckClean(img);
  });

  it("put streams large files from a file or stdin; a failed put leaves the image as it was", () => {
    const big = Buffer.alloc(2_500_000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 24;
    const local = path.join(dir, "big.bin");
    fs.writeFileSync(local, big);
    const image = path.join(dir, "stream.img");
    ok(["mkfs", image, "--size", "8M"]);
    ok(["put", image, local, "/big.bin"]);
    ok(["put", image, "-", "/piped.bin"], big);
    expect(ok(["cat", image, "/big.bin"]).equals(big)).to.equal(true);
    expect(tool("mtype", ["-i", image, "::/PIPED.BIN"]).stdout.equals(big)).to.equal(true);
    const before = fs.readFileSync(image);
    const missing = zk(["put", image, path.join(dir, "none.bin"), "/big.bin"]);
    expect(missing.status).to.equal(1);
    expect(missing.stderr).to.match(/^zkguest: io: ENOENT: no such file or directory, open '.*none\.bin'\n$/);
    expect(fs.readFileSync(image).equals(before), "the image was not even opened").to.equal(true);
    // More than the free space (copy-on-write keeps the old content until the new one is complete).
    const full = zk(["put", image, "-", "/big.bin"], Buffer.alloc(6_000_000, 1));
    expect(full.status).to.equal(1);
    expect(full.stderr).to.match(/^zkguest: no_space: writing [\d,]+ bytes to \/big\.bin needs/);
    expect(ok(["cat", image, "/big.bin"]).equals(big)).to.equal(true);
    fsckClean(image);
  });

  it("mkdir, mv, rm", () => {
    ok(["mkdir", img, "/a/b/c"]);
    ok(["mv", img, "/var/log.txt", "/a/b/c/log.txt"]);
    ok(["mv", img, "/a/b", "/moved"]);
    expect(ok(["cat", img, "/moved/c/log.txt"]).toString()).to.equal("from stdin\n");
    ok(["rm", img, "/moved/c/log.txt"]);
    ok(["rm", img, "/moved/c"]);
    expect(ok(["ls", img, "/moved"]).toString()).to.equal("");
    fsckClean(img);
    expect(tool("mdir", ["-b", "-i", img, "::/"]).stdout.toString()).to.include("MOVED");
  });

  it("errors: one line naming the code and the cause, exit 1 for a failed operation, 2 for usage", () => {
    const bad = zk(["put", img, "-", "/var/share/proof.json"], Buffer.from("x"));
    expect(bad.status).to.equal(1);
    expect(bad.stderr).to.equal("zkguest: invalid_name: proof.json: extension 'json' has 4 characters, FAT-16 allows 3\n");
    const missing = zk(["cat", img, "/nope.txt"]);
    expect(missing.status).to.equal(1);
    expect(missing.stderr).to.equal("zkguest: not_found: /nope.txt: 'nope.txt' does not exist in /\n");
    const notEmpty = zk(["rm", img, "/var"]);
    expect(notEmpty.status).to.equal(1);
    expect(notEmpty.stderr).to.match(/^zkguest: directory_not_empty: \/var is not empty/);
    for (const args of [[], ["frob", img], ["toString", img], ["cat", img], ["ls", img, "/", "extra"], ["mkfs", img, "--size", "huge"], ["ls", img, "--bogus"]]) {
      const r = zk(args);
      expect(r.status, args.join(" ")).to.equal(2);
      expect(r.stderr.split("\n").filter(Boolean), args.join(" ")).to.have.length.at.most(16);
      expect(r.stderr).to.match(/^zkguest: usage: /);
      expect(r.stderr).to.not.match(/\n\s+at /, "no stack trace");
    }
    fsckClean(img);
  });

  it("names read from an image are printed escaped: a crafted entry cannot write lines or escape sequences", () => {
    const crafted = path.join(dir, "crafted.img");
    ok(["mkfs", crafted, "--size", "3M"]);
    ok(["put", crafted, "-", "/A.TXT"], Buffer.from("a"));
    const buf = fs.readFileSync(crafted);
    const at = buf.indexOf("A       TXT", 0, "latin1");
    expect(at).to.be.above(0);
    buf.set(Buffer.from("\x1b[2J\nOK \rTX", "latin1"), at);
    fs.writeFileSync(crafted, buf);
    const listed = ok(["ls", crafted]).toString();
    expect(listed).to.match(/^- +1  \S+  \\x1b\[2J\\nOK\.\\rTX$/m);
    expect(listed).not.to.match(/[\x00-\x09\x0b-\x1f]/);
    expect(JSON.parse(ok(["ls", crafted, "--json"]).toString())[0].name).to.equal("\x1b[2J\nOK.\rTX");
  });

  it("writing verbs wait for the image's lock (a host running on it), then write", async () => {
    const image = path.join(dir, "locked.img");
    ok(["mkfs", image, "--size", "3M"]);
    const release = await lockImage(image);
    const put = spawn(process.execPath, [BIN, "fs", "put", image, "-", "/WAITED.TXT"], { env: ENV, stdio: ["pipe", "ignore", "ignore"] });
    put.stdin.end("waited");
    const exited = new Promise<number>((resolve) => put.on("exit", (code) => resolve(code ?? -1)));
    const early = await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve("still waiting"), 1500))]);
    release();
    expect(early, "the put did not write while the image was locked").to.equal("still waiting");
    expect(await exited).to.equal(0);
    expect(ok(["cat", image, "/WAITED.TXT"]).toString()).to.equal("waited");
    fsckClean(image);
  });

  it("check: exit 0 when clean, 1 with problems, 2 when unreadable", () => {
    expect(ok(["check", img]).toString()).to.match(/: clean, 1 files, 4 directories$/m);
    expect(JSON.parse(ok(["check", img, "--json"]).toString()).problems).to.deep.equal([]);
    // A lower-case byte in a short name: fsck.fat -n does not flag it, our check does.
    const dirty = path.join(dir, "lower.img");
    const buf = fs.readFileSync(img);
    const rootOffset = (buf.readUInt16LE(14) + 2 * buf.readUInt16LE(22)) * 512;
    let patched = false;
    for (let o = rootOffset; o < rootOffset + 512 * 32; o += 32) {
      if (buf.toString("latin1", o, o + 3) === "VAR") {
        buf[o + 1] = "a".charCodeAt(0);
        patched = true;
      }
    }
    expect(patched).to.equal(true);
    fs.writeFileSync(dirty, buf);
    expect(tool("fsck.fat", ["-n", dirty]).status).to.equal(0);
    const found = zk(["check", dirty]);
    expect(found.status).to.equal(1);
    expect(found.stdout.toString()).to.match(/^\/VaR: short name 'VaR' has lower-case letters/m);
    expect(JSON.parse(zk(["check", dirty, "--json"]).stdout.toString()).problems).to.have.length(1);

    const notFat = path.join(dir, "zeros.img");
    fs.writeFileSync(notFat, new Uint8Array(4 * 2 ** 20));
    const unreadable = zk(["check", notFat]);
    expect(unreadable.status).to.equal(2);
    expect(unreadable.stderr).to.match(/^zkguest: corrupt_volume: sector 0 is neither a FAT boot sector nor a partition table/);
    expect(zk(["check", path.join(dir, "absent.img")]).status).to.equal(2);
    const truncated = path.join(dir, "short.img");
    fs.writeFileSync(truncated, fs.readFileSync(img).subarray(0, 2 ** 20));
    const t = zk(["ls", truncated]);
    expect(t.status).to.equal(2);
    expect(t.stderr).to.match(/^zkguest: corrupt_volume: the boot sector describes 3,145,728 bytes but the image holds only 1,048,576/);
  });
});
