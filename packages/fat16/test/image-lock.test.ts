import { expect } from "chai";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { lockImage, withImageLock } from "../src/index.js";

const CHILD = fileURLToPath(new URL("./lock-child.js", import.meta.url));

/** Runs lock-child.js; resolves with its exit code, or (`until`) when it prints that line, with the process. */
function child(args: string[]): { exited: Promise<number>; printed: (line: string) => Promise<void>; kill: () => void; pid: number } {
  const p = spawn(process.execPath, [CHILD, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  const waiters: [string, () => void][] = [];
  p.stdout.on("data", (d: Buffer) => {
    out += d.toString();
    for (const [line, resolve] of waiters) if (out.includes(`${line}\n`)) resolve();
  });
  return {
    exited: new Promise((resolve) => p.on("exit", (code, signal) => resolve(code ?? (signal ? -1 : 0)))),
    printed: (line) => new Promise((resolve) => waiters.push([line, resolve])),
    kill: () => p.kill("SIGKILL"),
    pid: p.pid!,
  };
}

describe("image lock: one writer of an image at a time, across processes", function () {
  this.timeout(30_000);
  let dir: string;
  let image: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "zkguest-lock-"));
    image = path.join(dir, "disk.img");
    fs.writeFileSync(image, "");
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("four processes taking turns lose no update, and leave no lock behind", async () => {
    const counter = path.join(dir, "counter");
    fs.writeFileSync(counter, "0");
    const codes = await Promise.all([1, 2, 3, 4].map(() => child(["count", image, counter, "25"]).exited));
    expect(codes).to.deep.equal([0, 0, 0, 0]);
    expect(fs.readFileSync(counter, "utf8")).to.equal("100");
    expect(fs.readdirSync(dir).sort()).to.deep.equal(["counter", "disk.img"]);
  });

  it("a live holder is waited for, then named in an invalid_state error", async () => {
    const holder = child(["hold", image]);
    try {
      await holder.printed("locked");
      const started = performance.now();
      const err = await withImageLock(image, () => "ran", { waitMs: 300 }).catch((e: unknown) => e);
      expect(err).to.have.property("code", "invalid_state");
      expect((err as Error).message).to.equal(
        `image '${image}' is in use by process ${holder.pid} on ${os.hostname()} (waited 300 ms; if no such process is running, remove ${image}.lock)`,
      );
      expect(performance.now() - started).to.be.at.least(300);
    } finally {
      holder.kill();
      await holder.exited;
    }
  });

  it("the lock of a SIGKILLed holder is broken at once", async () => {
    const holder = child(["hold", image]);
    await holder.printed("locked");
    expect(JSON.parse(fs.readFileSync(`${image}.lock`, "utf8"))).to.have.property("pid", holder.pid);
    holder.kill();
    await holder.exited;
    expect(await withImageLock(image, () => "ran", { waitMs: 0 })).to.equal("ran");
    expect(fs.existsSync(`${image}.lock`)).to.equal(false);
  });

  it("a lock whose pid was reused by a later process, or that is not a lock file, is broken; one from another machine is waited for", async () => {
    const lock = `${image}.lock`;
    const write = (holder: object | string) => fs.writeFileSync(lock, typeof holder === "string" ? holder : JSON.stringify(holder));
    // This process's pid, but not its start time: the holder was another process with that pid.
    write({ pid: process.pid, host: os.hostname(), started: "1", token: "t" });
    expect(await withImageLock(image, () => "ran", { waitMs: 0 })).to.equal("ran");
    write("garbage");
    expect(await withImageLock(image, () => "ran", { waitMs: 0 })).to.equal("ran");
    write({ pid: 1, host: "another-machine.example", token: "t" });
    expect(await withImageLock(image, () => "ran", { waitMs: 50 }).catch((e: unknown) => e)).to.have.property("code", "invalid_state");
  });

  it("in one process too: a second locker waits for the first to release", async () => {
    const release = await lockImage(image);
    const order: string[] = [];
    const second = withImageLock(image, () => order.push("second"));
    await new Promise((resolve) => setTimeout(resolve, 50));
    order.push("first released");
    release();
    await second;
    expect(order).to.deep.equal(["first released", "second"]);
  });
});
