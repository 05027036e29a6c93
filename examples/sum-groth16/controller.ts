import { circuitInput, decodeUtf8, defineController, fs, log } from "@zkguest/guest-sdk";

/** The request's arguments: up to four numbers below 2^32 whose sum is proved, and the request's id. */
type Args = { numbers: number[]; request: number };

/** The circuit's size (circuit.circom's `Sum(4)`): fewer numbers are padded with zeros. */
const N = 4;
/** Where the proof goes on the program's disk; clients read it back from there. */
const PROOF_PATH = "/var/share/proof.bin";

export default defineController<Args>({
  getWitnesses(args) {
    const numbers = Array.isArray(args?.numbers) ? args.numbers : [];
    if (numbers.length > N) throw new RangeError(`at most ${N} numbers, got ${numbers.length}`);
    const sum = numbers.reduce((a, b) => a + b, 0);
    log.info("computing witnesses", { count: numbers.length, sum });
    // The circuit's input signals: numbers[4] (private) and request (public). A number out of
    // range is not refused here: the circuit refuses it (proving fails, and we are told).
    return [circuitInput({ numbers: [...numbers, ...Array(N - numbers.length).fill(0)], request: args?.request ?? 0 })];
  },

  entrypoint(result) {
    if (!result.success || !result.proof) {
      log.error("proving failed", { code: result.error?.code ?? "internal", message: result.error?.message ?? "" });
      return;
    }
    // The groth16 prover's proof is JSON: its public signals are the circuit's outputs, then its
    // public inputs (here [sum, request]). Check that it answers this request before storing it.
    const { publicSignals } = JSON.parse(decodeUtf8(result.proof)) as { publicSignals: string[] };
    if (publicSignals[1] !== String(result.args.request ?? 0)) throw new Error(`the proof is for request ${publicSignals[1]}, not ${result.args.request}`);
    const stat = fs.store(PROOF_PATH, result.proof);
    log.info("proof stored", { path: PROOF_PATH, bytes: stat.size, sum: publicSignals[0]!, request: publicSignals[1]! });
  },
});
