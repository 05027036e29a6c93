import { decode as plainDecode, encode as plainEncode } from "@msgpack/msgpack";
import { decode, encode, fromVectorJson, type Message } from "@zkguest/protocol";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { compareOpsPerSecond, type BenchRow, type BenchSection } from "./harness.js";

/**
 * Protocol cost: our encode + decode + validate (strict profile scan, io-ts codecs) for one
 * message of each kind, against a plain @msgpack/msgpack encode + decode of the same value with
 * no validation, in the same run. Messages are the golden vectors (small frames). Goal: the
 * typed layer costs at most 1.5x the plain codec.
 */
const GOAL = 1.5;

function sampleMessages(): Message[] {
  const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../protocol/vectors");
  const seen = new Set<string>();
  const out: Message[] = [];
  for (const file of ["host-to-guest.json", "guest-to-host.json", "responses.json"]) {
    for (const v of JSON.parse(readFileSync(path.join(dir, file), "utf8")) as { value: Message }[]) {
      const m = fromVectorJson(v.value) as Message;
      if (seen.has(m.kind)) continue;
      seen.add(m.kind);
      out.push(m);
    }
  }
  return out;
}

export async function run(): Promise<BenchSection[]> {
  const rows: BenchRow[] = [];
  let sink = 0;
  for (const m of sampleMessages()) {
    const size = encode(m).length;
    const { subject: ours, baseline: plain } = compareOpsPerSecond(
      () => {
        const r = decode(encode(m));
        sink += r._tag === "Right" ? 1 : 0;
      },
      () => {
        const r = plainDecode(plainEncode(m)) as { id: number };
        sink += r.id;
      },
    );
    const slowdown = plain / ours;
    rows.push({
      name: `${m.kind} (${size} B)`,
      value: ours,
      unit: "ops/s",
      baselineName: "plain @msgpack/msgpack encode+decode",
      baselineValue: plain,
      higherIsBetter: true,
      goal: `cost <= ${GOAL}x plain (here ${slowdown.toFixed(2)}x)`,
      goalMet: slowdown <= GOAL,
    });
  }
  if (sink < 0) throw new Error("unreachable");
  return [
    {
      title: "Protocol: encode + decode + validate, per message kind",
      baseline: "a plain @msgpack/msgpack encode + decode of the same value, without validation, in the same run",
      notes:
        "Each message is the first golden vector of its kind. Value = round trips per second: median of 9 batches of about 100 ms, subject and baseline batches alternating. Ratio < 1 means our typed layer is slower; the goal is that it costs at most 1.5x the plain codec (ratio >= 0.67).",
      rows,
    },
  ];
}
