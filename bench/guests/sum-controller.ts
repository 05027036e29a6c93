import { defineController, encodeUtf8, fs, log } from "@zkguest/guest-sdk";

/**
 * The benchmarks' guest: one log call first (the end of a cold start), `logs` more (host-call
 * round trips), then the witness computation of examples/hello-js (the sum of the numbers, as
 * JSON); the entrypoint stores the proof, as a real controller would.
 */
type Args = { numbers?: number[]; logs?: number };

export default defineController<Args>({
  getWitnesses(args) {
    log.info("start");
    for (let i = 0; i < (args.logs ?? 0); i++) log.info("tick");
    const numbers = args.numbers ?? [];
    const sum = numbers.reduce((a, b) => a + b, 0);
    return [{ type: "data", data: encodeUtf8(JSON.stringify({ numbers, sum })) }];
  },
  entrypoint(result) {
    if (result.proof) fs.store("/var/share/proof.bin", result.proof);
  },
});
