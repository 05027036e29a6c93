import { expect } from "chai";
import { copyFileSync, readFileSync } from "node:fs";
import path from "node:path";
import { formatVolume } from "@zkguest/fat16";
import { canonicalEncode, sha256Hex } from "../src/canonical.js";
import { QuickJsEngine } from "../src/engine/quickjs.js";
import { DEFAULT_RUN_LIMITS } from "../src/run-limits.js";
import { LazyDisk } from "../src/session/disk.js";
import { runPhase } from "../src/session/session.js";
import { tempDir } from "./host-fixtures.js";
import { bundleSource } from "./quickjs-helpers.js";

// SPEC.md §4.5: what a guest writes is stamped with the guests' epoch, so that two runs of the
// same artifact and arguments on the same starting disk give byte-identical witnesses (the
// guest reads the stamps back) and images, whenever and in whatever time zone the host runs.

const CONTROLLER = `
  import { defineController, encodeUtf8, fs, serve } from "@zkguest/guest-sdk";
  serve(defineController({
    getWitnesses() {
      fs.mkdir("/var/share", { parents: true });
      fs.store("/var/share/a.txt", "first");
      fs.store("/var/share/a.txt", "second", { mode: "overwrite" });
      fs.store("/b.bin", new Uint8Array([1, 2, 3]));
      const seen = { a: fs.stat("/var/share/a.txt"), share: fs.list("/var/share"), root: fs.list("/") };
      return [{ type: "data", data: encodeUtf8(JSON.stringify(seen)) }];
    },
    entrypoint() {},
  }));`;

/** Runs `body` with the host's clock moved by `shiftMs` and its time zone set to `tz`. */
function withHostClock<T>(shiftMs: number, tz: string, body: () => T): T {
  const RealDate = Date;
  class ShiftedDate extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(RealDate.now() + shiftMs);
      else super(...(args as [number]));
    }
    static override now(): number {
      return RealDate.now() + shiftMs;
    }
  }
  const tzBefore = process.env.TZ;
  globalThis.Date = ShiftedDate as DateConstructor;
  process.env.TZ = tz;
  try {
    return body();
  } finally {
    globalThis.Date = RealDate;
    if (tzBefore === undefined) delete process.env.TZ;
    else process.env.TZ = tzBefore;
  }
}

describe("determinism: same artifact, arguments and starting disk, same witnesses and image", function () {
  this.timeout(20_000);
  let tmp: ReturnType<typeof tempDir>;
  before(() => {
    tmp = tempDir("zkguest-determinism-");
  });
  after(() => tmp.remove());

  it("whenever the host runs it and in whatever time zone (a clock moved by days, TZ from UTC to +14)", async () => {
    const guest = (await QuickJsEngine.create()).load(await bundleSource(CONTROLLER));
    const start = path.join(tmp.dir, "start.img");
    formatVolume(start, { size: 4 * 1024 * 1024, serial: 7 });
    const run = (name: string) => {
      const image = path.join(tmp.dir, name);
      copyFileSync(start, image);
      const disk = new LazyDisk(image, {});
      try {
        const outcome = runPhase(guest, disk, { phase: "witness", args: null, limits: DEFAULT_RUN_LIMITS });
        expect(outcome.error).to.equal(undefined);
        return { witnesses: outcome.witnesses!, hash: sha256Hex(canonicalEncode(outcome.witnesses!)) };
      } finally {
        disk.close();
      }
    };
    const first = withHostClock(0, "UTC", () => run("first.img"));
    const second = withHostClock(3 * 86_400_000 + 7_000, "Pacific/Kiritimati", () => run("second.img"));
    expect(second.hash).to.equal(first.hash);
    expect(readFileSync(path.join(tmp.dir, "second.img")).equals(readFileSync(path.join(tmp.dir, "first.img"))), "identical images").to.equal(true);
    const seen = JSON.parse(new TextDecoder().decode((first.witnesses[0] as { data: Uint8Array }).data)) as { a: { modified: string } };
    expect(seen.a.modified).to.equal("2024-01-01T00:00:00");
  });
});
