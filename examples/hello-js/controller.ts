import { defineController, encodeUtf8, fs, log } from "@zkguest/guest-sdk";

/** The request's arguments: some numbers whose sum the circuit proves. */
type Args = { numbers: number[] };

/** Where the proof goes on the program's disk; clients read it back from there. */
const PROOF_PATH = "/var/share/proof.bin";

export default defineController<Args>({
  getWitnesses(args) {
    const numbers = Array.isArray(args?.numbers) ? args.numbers : [];
    const sum = numbers.reduce((a, b) => a + b, 0);
    log.info("computing witnesses", { count: numbers.length, sum });
    // One raw-data witness: the numbers and their sum, as JSON.
    return [{ type: "data", data: encodeUtf8(JSON.stringify({ numbers, sum })) }];
  },

  entrypoint(result) {
    if (!result.success || !result.proof) {
      log.error("proving failed", { code: result.error?.code ?? "internal", message: result.error?.message ?? "" });
      return;
    }
    const stat = fs.store(PROOF_PATH, result.proof);
    log.info("proof stored", { path: PROOF_PATH, bytes: stat.size });
  },
});
