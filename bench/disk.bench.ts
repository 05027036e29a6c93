import { formatVolume, Volume } from "@zkguest/fat16";
import { createArtifact, Host } from "@zkguest/host-sdk";
import { PROTOCOL_VERSION } from "@zkguest/protocol";
import { bundleController } from "zkguest";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { median, type BenchRow, type BenchSection } from "./harness.js";

/**
 * A run's cost against what is on its disk (issue 13): full lifecycles per second of one
 * program whose disk is a fresh 16 MiB image, a 256 MiB image holding 5,000 files of 4 KiB, and
 * a 2 GiB image holding 20,000 files of 64 KiB. The images are built once per bench run (by the
 * store, in batch durability; the image files are sparse but the files' clusters are written).
 */
const GUEST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../guests/sum-controller.ts");
const MiB = 2 ** 20;
const GOAL_RATIO = 0.8;
const ARGS = { numbers: [1, 2, 3, 4, 5, 6, 7, 8] };

interface Disk {
  readonly name: string;
  readonly sizeBytes: number;
  readonly files: number;
  readonly fileBytes: number;
}

const DISKS: readonly Disk[] = [
  { name: "fresh 16 MiB disk", sizeBytes: 16 * MiB, files: 0, fileBytes: 0 },
  { name: "256 MiB disk holding 5,000 files of 4 KiB", sizeBytes: 256 * MiB, files: 5_000, fileBytes: 4096 },
  { name: "2 GiB disk holding 20,000 files of 64 KiB", sizeBytes: 2048 * MiB, files: 20_000, fileBytes: 65536 },
];

/** Formats the image and fills it with `files` files, 1,000 per directory (/D000/F0000.BIN, ...). */
function buildImage(image: string, disk: Disk): void {
  formatVolume(image, { size: disk.sizeBytes });
  const volume = Volume.open(image, { durability: "batch" });
  const data = new Uint8Array(disk.fileBytes).fill(0x5a);
  for (let i = 0; i < disk.files; i++) {
    volume.writeFile(`/D${String(Math.floor(i / 1000)).padStart(3, "0")}/F${String(i % 1000).padStart(4, "0")}.BIN`, data);
  }
  volume.close();
}

export async function run(): Promise<BenchSection[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zkguest-disk-bench-"));
  // Quotas above what the full disks hold: the guest adds one file.
  const host = await Host.create({ dataDir: path.join(dir, "host"), devMode: true, poolSize: 1, limits: { quotaBytes: 2048 * MiB, quotaFiles: 100_000 } });
  try {
    const { code } = await bundleController(GUEST);
    const program = await host.deploy(createArtifact({ name: "disk-bench", engine: "js", code, protocol: { min: PROTOCOL_VERSION, max: PROTOCOL_VERSION } }).bytes);
    const images = DISKS.map((disk, i) => {
      const image = path.join(dir, `disk${i}.img`);
      buildImage(image, disk);
      return image;
    });
    const runFor = async (image: string, ms: number): Promise<number> => {
      let done = 0;
      const until = performance.now() + ms;
      while (performance.now() < until) {
        const report = await host.prove(program, ARGS, { image });
        if (report.status !== "proved") throw new Error(`bench run failed: ${report.error?.code}: ${report.error?.message}`);
        done++;
      }
      return done / (ms / 1000);
    };
    for (const image of images) await runFor(image, 300);
    // Disks in turn, a second each, five times: a change in the machine's load touches all alike.
    const rates: number[][] = DISKS.map(() => []);
    for (let round = 0; round < 5; round++) for (let i = 0; i < images.length; i++) rates[i]!.push(await runFor(images[i]!, 1000));
    const fresh = median(rates[0]!);
    const rows: BenchRow[] = DISKS.slice(1).map((disk, i) => {
      const rate = median(rates[i + 1]!);
      return {
        name: `full lifecycle runs, one program, ${disk.name}`,
        value: rate,
        unit: "runs/s",
        baselineName: `the same on a ${DISKS[0]!.name}, this run`,
        baselineValue: fresh,
        higherIsBetter: true,
        goal: `>= ${GOAL_RATIO}x the fresh disk`,
        goalMet: rate >= GOAL_RATIO * fresh,
      };
    });
    return [
      {
        title: "Disk growth: lifecycle throughput against what is on the disk",
        baseline: "the same program's runs on a fresh 16 MiB disk, in the same run",
        notes:
          "One program (bench/guests/sum-controller.ts; its entrypoint stores the proof on the disk), one worker, Host.prove in a loop with RunOptions.image naming the disk. " +
          "The disks are used in turn for 1 s each, five rounds (medians). The full images are built once per bench run by the store (1,000 files per directory).",
        rows,
      },
    ];
  } finally {
    await host.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
