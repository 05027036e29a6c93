/**
 * The conformance controller for the JavaScript guest SDK: an ordinary controller that also
 * follows the conformance controller contract (packages/host-sdk/src/conformance/contract.ts),
 * so that the guest kit can make it use its disk and see what it caught:
 *
 *   zkguest conformance guest examples/conformance-guest/controller.ts
 *
 * args {"conformance": "fs-errors"}: each file operation once, one "conformance.op" log line
 * per operation with the error code it caught (or "ok"); args {"conformance": "frame-limit",
 * "bytes": N}: an fs.store of N bytes, reported the same way. Any other args: one data witness
 * (the args as JSON), and the entrypoint stores the proof at /var/share/proof.bin.
 */
import { defineController, encodeUtf8, fs, isZkguestError, log, type Value } from "@zkguest/guest-sdk";

const FILE = "/CONF/FILE.BIN";

/** The file operations, in the contract's order (FS_OPS). */
const OPERATIONS: Record<string, () => unknown> = {
  "fs.store": () => fs.store(FILE, "abc"),
  "fs.read": () => fs.read(FILE),
  "fs.list": () => fs.list("/CONF"),
  "fs.stat": () => fs.stat(FILE),
  "fs.remove": () => fs.remove(FILE),
  "fs.mkdir": () => fs.mkdir("/CONF/DIR"),
};

/** Runs one operation and logs the protocol error code it threw, or "ok". */
function report(op: string, attempt: () => unknown): void {
  let code = "ok";
  try {
    attempt();
  } catch (e) {
    if (!isZkguestError(e)) throw e;
    code = e.code;
  }
  log.info("conformance.op", { code, op });
}

function field(args: Value, key: string): Value | undefined {
  return typeof args === "object" && args !== null && !Array.isArray(args) && !(args instanceof Uint8Array) ? args[key] : undefined;
}

export default defineController({
  getWitnesses(args) {
    const mode = field(args, "conformance");
    if (mode === "fs-errors") {
      for (const [op, attempt] of Object.entries(OPERATIONS)) report(op, attempt);
      return [];
    }
    if (mode === "frame-limit") {
      const bytes = field(args, "bytes");
      report("fs.store", () => fs.store("/CONF/BIG.BIN", new Uint8Array(typeof bytes === "number" ? bytes : 0)));
      return [];
    }
    return [{ type: "data", data: encodeUtf8(JSON.stringify(args)) }];
  },

  entrypoint(result) {
    if (!result.success || !result.proof) {
      log.warn("proving failed", { code: result.error?.code ?? "internal" });
      return;
    }
    const stat = fs.store("/var/share/proof.bin", result.proof);
    log.info("proof stored", { bytes: stat.size });
  },
});
