import { readFileSync, writeFileSync, writeSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { lockImage, withImageLock } from "../src/index.js";

/**
 * The image lock test's other process. `hold IMAGE`: takes the lock, prints `locked`, and waits
 * to be killed. `count IMAGE COUNTER TIMES`: TIMES times, under the lock, reads the number in
 * COUNTER, waits a little, and writes it back plus one (lost updates if two ever overlap).
 */
const [mode, image, counter, times] = process.argv.slice(2);
if (mode === "hold") {
  await lockImage(image!);
  writeSync(1, "locked\n");
  await sleep(60_000);
} else {
  for (let i = 0; i < Number(times); i++) {
    await withImageLock(image!, async () => {
      const n = Number(readFileSync(counter!, "utf8"));
      await sleep(2);
      writeFileSync(counter!, String(n + 1));
    });
  }
}
