import { expect } from "chai";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { ZkguestError } from "@zkguest/protocol";
import { checkVolume, formatVolume, Volume, type Durability } from "../src/index.js";
import { CRASH_PATHS, crashContent, fsck, mtype, tempDir } from "./tools.js";

/** A path's state: the generation of its content, or absent. */
type State = number | "absent";

/** What fsck.fat -n may say after a crash: a dirty flag, lost clusters, a second FAT not yet updated. Nothing else. */
const BENIGN = [
  /^fsck\.fat \d/,
  /^Dirty bit is set\. Fs was not properly unmounted and some data may be corrupt\.$/,
  /^ Automatically removing dirty bit\.$/,
  /^Reclaimed \d+ unused clusters? \(\d+ bytes\)\.$/,
  /^FATs differ but appear to be intact\.$/,
  /^ {2}Using first FAT\.$/,
  /^Leaving filesystem unchanged\.$/,
  /: \d+ files, \d+\/\d+ clusters$/,
  /^$/,
];

/**
 * Replays the child's log: which state each path may be in after the kill. `fsync` and
 * `ordered` (a killed process loses no completed write): every `done` is committed; the one operation in flight may or may not have happened. `batch`: only
 * what a completed flush covered is committed; the operations since may each have happened or
 * not (an automatic commit or a flush in flight can have written some of them).
 */
function allowedStates(log: string, before: Map<string, State>, durability: Durability): Map<string, Set<State>> {
  const committed = new Map(before);
  let pending: [string, State][] = [];
  for (const line of log.split("\n").slice(0, log.endsWith("\n") ? -1 : undefined)) {
    const [phase, op, path, gen] = line.split(" ");
    if (op === "flush" && phase === "done") {
      for (const [p, s] of pending) committed.set(p, s);
      pending = [];
    } else if (op === "write" || op === "remove") {
      const effect: [string, State] = [path!, op === "write" ? Number(gen) : "absent"];
      if (phase === "start") pending.push(effect);
      else if (durability !== "batch") {
        committed.set(...effect);
        pending = [];
      }
    }
  }
  const allowed = new Map<string, Set<State>>();
  for (const p of CRASH_PATHS) allowed.set(p, new Set([committed.get(p)!]));
  for (const [p, s] of pending) allowed.get(p)!.add(s);
  return allowed;
}

/** What the image holds at each path, identified by exact content among the allowed generations. */
function observe(img: string, allowed: Map<string, Set<State>>): Map<string, State> {
  const v = Volume.open(img, { readOnly: true });
  const seen = new Map<string, State>();
  try {
    for (const [path, states] of allowed) {
      let data: Uint8Array | undefined;
      try {
        data = v.readFile(path);
      } catch (err) {
        if (!(err instanceof ZkguestError) || err.code !== "not_found") throw err;
      }
      const match = [...states].find((s) => (s === "absent" ? data === undefined : data !== undefined && Buffer.from(data).equals(Buffer.from(crashContent(path, s)))));
      if (match === undefined) {
        const got = data === undefined ? "absent" : `${data.length} bytes matching none`;
        throw new Error(`${path}: found ${got}; allowed ${[...states].join(", ")}`);
      }
      seen.set(path, match);
    }
  } finally {
    v.close();
  }
  return seen;
}

/**
 * Runs the writer and kills it `killAfterMs` after it is ready, or, with `beforeReady`, that long
 * after it starts (node takes ~200 ms to start: those kills land in the open and its repairs).
 */
function runChild(img: string, durability: Durability, seed: number, genBase: number, killAfterMs: number, beforeReady: boolean): Promise<string> {
  const child = spawn(process.execPath, [fileURLToPath(new URL("./crash-child.js", import.meta.url)), img, durability, String(seed), String(genBase)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  const kill = (): NodeJS.Timeout => setTimeout(() => child.kill("SIGKILL"), killAfterMs);
  let timer = beforeReady ? kill() : undefined;
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
    if (!timer && out.startsWith("ready")) timer = kill();
  });
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      if (signal === "SIGKILL") resolve(out);
      else reject(new Error(`the writer exited on its own (code ${code}): ${err}`));
    });
  });
}

describe("crash safety: a writer killed at random points (FAT16_CRASH_TRIALS, default 24)", function () {
  this.timeout(300_000);
  const trials = Number(process.env["FAT16_CRASH_TRIALS"] ?? 24);
  const t = tempDir();
  after(() => t.cleanup());

  it("every completed write is intact, and fsck.fat -n finds nothing worse than lost clusters", async () => {
    let rng = 0x2545f491;
    const random = (): number => {
      rng ^= rng << 13;
      rng ^= rng >>> 17;
      rng ^= rng << 5;
      return (rng >>> 0) / 2 ** 32;
    };
    const PER_IMAGE = 8;
    let stats = { ops: 0, killedBeforeReady: 0 };
    for (let series = 0; series * PER_IMAGE < trials; series++) {
      const img = t.file(`crash${series}.img`);
      formatVolume(img, { size: 8 * 2 ** 20 });
      let state = new Map<string, State>(CRASH_PATHS.map((p) => [p, "absent"]));
      for (let trial = series * PER_IMAGE; trial < Math.min(trials, (series + 1) * PER_IMAGE); trial++) {
        const durability = (["fsync", "ordered", "batch"] as const)[trial % 3]!;
        const beforeReady = trial % 5 === 4;
        const delay = Math.floor(random() * (beforeReady ? 350 : 150));
        const log = await runChild(img, durability, trial + 1, trial * 1_000_000, delay, beforeReady);
        if (!log.startsWith("ready")) stats.killedBeforeReady++;
        stats.ops += log.split("\n").filter((l) => l.startsWith("done")).length;
        const context = `trial ${trial} (${durability})`;

        const r = fsck(img);
        expect(r.status, `${context}: ${r.output}`).to.be.oneOf([0, 1]);
        const unexpected = r.output.split("\n").filter((line) => !BENIGN.some((re) => re.test(line)));
        expect(unexpected, `${context}: fsck.fat -n said:\n${r.output}`).to.deep.equal([]);
        const blocking = checkVolume(img).problems.filter((p) => p.blocksWriting);
        expect(blocking, context).to.deep.equal([]);

        const allowed = allowedStates(log, state, durability);
        try {
          state = observe(img, allowed);
        } catch (err) {
          throw new Error(`${context}: ${(err as Error).message}\n--- writer's log (tail) ---\n${log.slice(-600)}`);
        }
        for (const path of CRASH_PATHS.slice(0, 4)) {
          const s = state.get(path)!;
          if (s !== "absent") expect(mtype(img, path).equals(Buffer.from(crashContent(path, s))), `${context}: mtype ${path}`).to.equal(true);
        }
      }
      // The next writable open repairs what the crashes left; then the volume is clean.
      Volume.open(img).close();
      const r = fsck(img);
      expect(r.status, r.output).to.equal(0);
      expect(checkVolume(img).problems).to.deep.equal([]);
    }
    expect(stats.ops, "the writers got work done before being killed").to.be.greaterThan(trials * 5);
  });
});
