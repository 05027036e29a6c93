import { writeSync } from "node:fs";
import { isZkguestError } from "@zkguest/protocol";
import { Volume, type Durability } from "../src/index.js";
import { CRASH_PATHS, crashContent } from "./tools.js";

/**
 * The crash test's writer: changes files on IMAGE in a loop until it is killed, printing
 * `start ...` before and `done ...` after each operation (synchronously, so a line printed is a
 * line the parent sees). Usage: crash-child IMAGE DURABILITY SEED GENERATION-BASE
 */
const [image, durability, seedText, genText] = process.argv.slice(2);
let seed = Number(seedText) >>> 0 || 1;
const random = (): number => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 2 ** 32;
};
const say = (line: string): void => void writeSync(1, line + "\n");

const volume = Volume.open(image!, { durability: durability as Durability });
say("ready");
for (let i = 0; ; i++) {
  const path = CRASH_PATHS[Math.floor(random() * CRASH_PATHS.length)]!;
  const r = random();
  if (durability === "batch" && r < 0.08) {
    say("start flush");
    volume.flush();
    say("done flush");
  } else if (r < 0.2) {
    say(`start remove ${path}`);
    try {
      volume.remove(path);
    } catch (err) {
      if (!isZkguestError(err) || err.code !== "not_found") throw err;
    }
    say(`done remove ${path}`);
  } else {
    const gen = Number(genText) + i;
    say(`start write ${path} ${gen}`);
    const content = crashContent(path, gen);
    if (random() < 0.5) volume.writeFile(path, content);
    else {
      // The same content through a FileWriter, in pieces of random sizes.
      const writer = volume.createWriter(path);
      for (let at = 0; at < content.length; ) {
        const piece = Math.ceil(random() * 30_000);
        writer.write(content.subarray(at, at + piece));
        at += piece;
      }
      writer.finish();
    }
    say(`done write ${path} ${gen}`);
  }
}
