import { expect } from "chai";
import { decode as decodeMsgpack } from "@msgpack/msgpack";
import { encode, frame, type Body } from "@zkguest/protocol";
import type { LoadedGuest } from "../src/engine/engine.js";
import { QuickJsEngine } from "../src/engine/quickjs.js";
import { WasmEngine } from "../src/engine/wasm.js";
import { FS_ERROR_CODES, laterMinorCode, runGuestKit } from "../src/conformance/guest-kit.js";
import type { CheckResult } from "../src/conformance/results.js";
import { expectFailedChecks, failures, JS_CONFORMANCE_CONTROLLER, referenceGuestWasm, rewritingFrames } from "./conformance-fixtures.js";
import { exampleGuestWasm, requireClang } from "./host-fixtures.js";
import { bundleController, bundleSource } from "./quickjs-helpers.js";



const FILE_ERROR_CHECKS = [...FS_ERROR_CODES, laterMinorCode()].map((code) => `file error ${code}`);

function row(results: readonly CheckResult[], check: string): CheckResult {
  const found = results.find((r) => r.check === check);
  expect(found, `no row '${check}'`).to.not.equal(undefined);
  return found!;
}

/**
 * A guest that ignores the version: every hello reaches its SDK as an offer of 1.0, whatever the
 * host offered, so it accepts a host that speaks only 2.0.
 */
function ignoringVersion(guest: LoadedGuest): LoadedGuest {
  const asOneZero = (bytes: Uint8Array): Uint8Array => {
    let raw: { kind?: unknown; id?: unknown; body?: unknown };
    try {
      raw = decodeMsgpack(bytes) as typeof raw;
    } catch {
      return bytes;
    }
    return raw?.kind === "hello" ? encode(frame("hello", raw.id as number, { ...(raw.body as Body<"hello">), offer: [[1, 0]] })) : bytes;
  };
  return rewritingFrames(guest, { into: asOneZero });
}

/** A controller that swallows host errors: its entrypoint reports the proof stored whether fs.store worked or not. */
const SWALLOWING_CONTROLLER = `
import { defineController, fs, log, serve } from "@zkguest/guest-sdk";
serve(defineController({
  getWitnesses() { return []; },
  entrypoint(result) {
    try { fs.store("/var/share/proof.bin", result.proof); } catch {}
    log.info("proof stored");
  },
}));`;

describe("conformance: the guest kit", function () {
  this.timeout(60_000);
  let js: LoadedGuest;

  before(async () => {
    js = (await QuickJsEngine.create()).load(await bundleController(JS_CONFORMANCE_CONTROLLER));
  });

  describe("against our guests", () => {
    it("the JS guest SDK (the conformance controller) passes, but for its known gaps", () => {
      const results = runGuestKit(js);
      expectFailedChecks(results, []);
      expect(results.filter((r) => r.result === "skip")).to.deep.equal([]);
      expect(row(results, "file error quota_exceeded").detail).to.equal("6 operations, each caught quota_exceeded");
      expect(row(results, `file error ${laterMinorCode()}`).detail).to.equal("6 operations, each caught internal");
    });

    it("examples/hello-js passes: a file error it lets through is answered as error carrying the host's code (surfaced)", async () => {
      const hello = (await QuickJsEngine.create()).load(await bundleController("examples/hello-js/controller.ts"));
      const results = runGuestKit(hello);
      expect(failures(results)).to.deep.equal([]);
      expect(row(results, "file error not_found").detail).to.equal("the guest answered error not_found");
    });

    it("the C ABI layer (the C conformance controller) passes every scenario", function () {
      requireClang(this);
      const results = runGuestKit(new WasmEngine().load(referenceGuestWasm()));
      expect(failures(results)).to.deep.equal([]);
      expect(results.filter((r) => r.result === "skip")).to.deep.equal([]);
    });

    it("examples/c-guest passes, surfacing file errors on its own run; what needs the contract is skipped", function () {
      requireClang(this);
      const results = runGuestKit(new WasmEngine().load(exampleGuestWasm()));
      expect(failures(results)).to.deep.equal([]);
      expect(results.filter((r) => r.result === "skip").map((r) => r.check)).to.deep.equal(["conformance controller contract", "max_frame_bytes 4096: the guest's frames"]);
      expect(row(results, "file error no_space").detail).to.equal("the guest answered error no_space");
    });
  });

  describe("catches broken guests", () => {
    it("a guest that ignores the version (accepts a host offering only 2.0)", () => {
      const results = runGuestKit(ignoringVersion(js));
      expect(row(results, "hello offering only 2.0")).to.deep.include({ result: "fail" });
      expect(row(results, "hello offering only 2.0").detail).to.match(/^expected error unsupported_version, got ok/);
    });

    it("a guest that swallows host errors (reports success when fs.store failed)", async () => {
      const swallowing = (await QuickJsEngine.create()).load(await bundleSource(SWALLOWING_CONTROLLER));
      const results = runGuestKit(swallowing);
      for (const check of FILE_ERROR_CHECKS) {
        expect(row(results, check), check).to.deep.include({ result: "fail" });
        expect(row(results, check).detail).to.match(/yet the guest answered ok nil, then ok nil and logged nothing naming it$/);
      }
      // The rest of what it does is conformant: the kit blames the right thing.
      expectFailedChecks(results, FILE_ERROR_CHECKS);
    });

    it("a guest that sends a frame over max_frame_bytes (the engine's limit ends it)", async () => {
      // It claims the contract, and in frame-limit mode hands the transport a frame over the limit instead of refusing it.
      const careless = (await QuickJsEngine.create()).load(await bundleSource(`
import { defineController, fs, log, serve } from "@zkguest/guest-sdk";
serve(defineController({
  getWitnesses(args) {
    if (args?.conformance === "frame-limit") globalThis.__zkguest_call(new Uint8Array(args.bytes + 64).buffer);
    else for (const op of ["fs.store", "fs.read", "fs.list", "fs.stat", "fs.remove", "fs.mkdir"]) log.info("conformance.op", { code: "ok", op });
    return [];
  },
  entrypoint() {},
}));`));
      const results = runGuestKit(careless);
      expect(row(results, "max_frame_bytes 4096: the guest's frames").detail).to.match(/^the guest sent a frame over max_frame_bytes/);
    });
  });
});
