import { expect } from "chai";
import path from "node:path";
import { formatVolume, Volume } from "@zkguest/fat16";
import { ZkguestError, type Witness } from "@zkguest/protocol";
import { createArtifact } from "../src/artifact.js";
import { Host } from "../src/host.js";
import type { PhaseDisk } from "../src/phase-disk.js";
import { DevProver } from "../src/prover/dev-prover.js";
import type { ProgramRef, Prover } from "../src/prover/prover.js";
import type { Phase } from "../src/report.js";
import { tempDir } from "./host-fixtures.js";
import { bundleSource } from "./quickjs-helpers.js";

// RunOptions.disk: a caller that keeps disks itself is asked for the disk before each phase
// that touches it, and the run holds no disk while it proves.

/** A guest that appends `args.tag` to /LOG.TXT in both phases. */
async function appendingGuest(): Promise<Uint8Array> {
  const code = await bundleSource(`
    import { defineController, encodeUtf8, fs, serve } from "@zkguest/guest-sdk";
    serve(defineController({
      getWitnesses(args) { fs.append("/log.txt", "w" + args.tag + "\\n"); return [{ type: "data", data: encodeUtf8(String(args.tag)) }]; },
      entrypoint(result) { fs.append("/log.txt", "e" + result.args.tag + "\\n"); },
    }));`);
  return createArtifact({ name: "appender", engine: "js", code, protocol: { min: [1, 0], max: [1, 0] } }).bytes;
}

/** A disk on one image file that serializes its phases and records what happens, in order. */
class RecordingDisk implements PhaseDisk {
  readonly events: string[] = [];
  held = false;
  private tail: Promise<unknown> = Promise.resolve();
  failCommit = false;

  constructor(readonly image: string) {}

  use<T>(phase: Phase, task: (image: string) => Promise<T>): Promise<T> {
    const run = this.tail.then(async () => {
      this.held = true;
      this.events.push(`${phase} start`);
      try {
        const result = await task(this.image);
        if (this.failCommit) throw new ZkguestError("internal", "the store could not keep the phase's writes");
        return result;
      } finally {
        this.events.push(`${phase} end`);
        this.held = false;
      }
    });
    this.tail = run.catch(() => {});
    return run;
  }
}

/** The dev prover, held back until released, recording whether a disk was held while it proved. */
class GatedProver implements Prover {
  readonly name = "gated";
  private readonly dev = new DevProver({ devMode: true });
  private release: (() => void) | undefined;
  private gate: Promise<void> = Promise.resolve();
  constructor(private readonly onProve: () => void) {}

  hold(): void {
    this.gate = new Promise((resolve) => (this.release = resolve));
  }

  open(): void {
    this.release?.();
  }

  async prove(witnesses: readonly Witness[], program: ProgramRef) {
    this.onProve();
    await this.gate;
    return this.dev.prove(witnesses, program);
  }

  verify(proof: Uint8Array, program: ProgramRef, witnesses?: readonly Witness[]) {
    return this.dev.verify(proof, program, witnesses);
  }
}

describe("host: a PhaseDisk given per run", function () {
  this.timeout(30_000);
  let tmp: ReturnType<typeof tempDir>;
  let host: Host;
  let prover: GatedProver;
  let disk: RecordingDisk;
  let program: string;
  const heldWhileProving: boolean[] = [];

  before(async () => {
    tmp = tempDir("zkguest-phase-disk-");
    prover = new GatedProver(() => heldWhileProving.push(disk.held));
    host = await Host.create({ dataDir: path.join(tmp.dir, "data"), prover, poolSize: 2 });
    program = await host.deploy(await appendingGuest());
  });

  beforeEach(() => {
    disk = new RecordingDisk(path.join(tmp.dir, `disk-${Date.now()}-${Math.random()}.img`));
    formatVolume(disk.image, { size: 4 * 2 ** 20 });
    heldWhileProving.length = 0;
  });

  after(async () => {
    await host?.close();
    tmp?.remove();
  });

  const log = (image: string) => {
    const v = Volume.open(image, { readOnly: true });
    try {
      return new TextDecoder().decode(v.readFile("/LOG.TXT"));
    } finally {
      v.close();
    }
  };

  it("each phase runs on the image the disk gives, inside use(); proving runs outside it", async () => {
    const report = await host.prove(program, { tag: 1 }, { disk });
    expect(report.status, report.error?.message).to.equal("proved");
    expect(disk.events).to.deep.equal(["witness start", "witness end", "entrypoint start", "entrypoint end"]);
    expect(heldWhileProving).to.deep.equal([false]);
    expect(log(disk.image)).to.equal("w1\ne1\n");
    const executed = await host.execute(program, { tag: 2 }, { disk });
    expect(executed.status).to.equal("executed");
    expect(log(disk.image)).to.equal("w1\ne1\nw2\n");
  });

  it("another run's witness step uses the disk while the first run proves", async () => {
    prover.hold();
    const first = host.prove(program, { tag: 1 }, { disk });
    while (heldWhileProving.length === 0) await new Promise((r) => setTimeout(r, 5));
    // The first run is proving (held back); the second's witness step gets the disk meanwhile.
    const second = host.prove(program, { tag: 2 }, { disk });
    while (disk.events.filter((e) => e === "witness end").length < 2) await new Promise((r) => setTimeout(r, 5));
    prover.open();
    const reports = await Promise.all([first, second]);
    expect(reports.map((r) => r.status)).to.deep.equal(["proved", "proved"]);
    expect(log(disk.image)).to.match(/^w1\nw2\ne[12]\ne[12]\n$/);
    expect(heldWhileProving).to.deep.equal([false, false]);
  });

  it("a disk that cannot keep a phase's writes fails the run: use()'s error is the run's", async () => {
    disk.failCommit = true;
    let caught: unknown;
    try {
      await host.prove(program, { tag: 3 }, { disk });
    } catch (e) {
      caught = e;
    }
    expect(caught).to.be.instanceOf(ZkguestError);
    expect((caught as ZkguestError).message).to.equal("the store could not keep the phase's writes");
  });
});
