import { expect } from "chai";
import { readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { decode, encode, frame, type Fields, type Message } from "@zkguest/protocol";
import type { HostCallHandler, LoadedGuest } from "../src/engine/engine.js";
import { WasmEngine } from "../src/engine/wasm.js";
import { CHECK_LINE, SUMMARY_LINE, type LogLine } from "../src/conformance/contract.js";
import { HOST_KIT_ARGS, hostKitResults, runOnHost } from "../src/conformance/host-kit.js";
import { Host } from "../src/host.js";
import { runOnSessionHost } from "../src/conformance/session-host.js";
import { expectFailedChecks, failures, referenceGuestWasm } from "./conformance-fixtures.js";
import { requireClang } from "./host-fixtures.js";
import { repoRoot } from "./quickjs-helpers.js";

const INVALID_NAME_CHECKS = [
  "invalid_name: 4-character extension",
  "invalid_name: 9-character base",
  "invalid_name: illegal characters",
  "invalid_name: empty component",
  "invalid_name: dots",
];

/** A host that accepts an invalid 8.3 name: its invalid_name answers become ok (with a made-up Stat). */
function acceptingInvalidNames(handler: HostCallHandler): HostCallHandler {
  return (request) => {
    const response = handler(request);
    const m = decode(response);
    if (m._tag === "Left" || m.right.kind !== "error" || m.right.body.code !== "invalid_name") return response;
    return encode(frame("ok", m.right.id, { value: { modified: "2024-01-01T00:00:00", name: "PROOF.JSO", size: 1, type: "file" } }, m.right.v));
  };
}

/** A host that drops a log field: fields holding bytes never reach its log (as a JSON-only log store would). */
function droppingBinaryLogFields(handler: HostCallHandler): HostCallHandler {
  return (request) => {
    const m = decode(request);
    if (m._tag === "Left" || m.right.kind !== "log" || m.right.body.fields === undefined) return handler(request);
    const fields: Fields = Object.fromEntries(Object.entries(m.right.body.fields).filter(([, v]) => !(v instanceof Uint8Array)));
    return handler(encode({ ...m.right, body: { ...m.right.body, fields } } as Message));
  };
}

const line = (message: string, fields: Fields): LogLine => ({ level: "info", message, fields });
const check = (name: string, result: string) => line(CHECK_LINE, { check: name, detail: "", result });

describe("conformance: the host kit", function () {
  this.timeout(60_000);
  let guest: LoadedGuest;

  before(function () {
    requireClang(this);
    guest = new WasmEngine().load(referenceGuestWasm());
  });

  it("the host-sdk's session layer passes every check", () => {
    const results = hostKitResults(runOnSessionHost(guest, HOST_KIT_ARGS));
    expect(failures(results)).to.deep.equal([]);
    expect(results.filter((r) => r.result === "skip")).to.deep.equal([]);
    expect(results.length).to.be.greaterThan(50);
    expect(results.at(-1)!.check).to.equal("the reference guest ran to the end");
  });

  it("the Host (worker pool, registry, disk image, dev prover) passes every check", async () => {
    const host = await Host.create({ devMode: true, poolSize: 1 });
    try {
      const results = hostKitResults(await runOnHost(host, referenceGuestWasm()));
      expect(failures(results)).to.deep.equal([]);
      expect(results.filter((r) => r.result === "skip")).to.deep.equal([]);
    } finally {
      await host.close();
    }
  });

  it("skips the quota checks when the host announces no reachable quota", () => {
    const results = hostKitResults(runOnSessionHost(guest, HOST_KIT_ARGS, { limits: { quotaBytes: 1 << 30, quotaFiles: 1 << 20 } }));
    expect(failures(results)).to.deep.equal([]);
    expect(results.filter((r) => r.result === "skip").map((r) => r.check)).to.deep.equal(["quota_exceeded: quota_bytes", "quota_exceeded: quota_files"]);
  });

  describe("catches broken hosts", () => {
    it("a host that accepts an invalid 8.3 name", () => {
      const results = hostKitResults(runOnSessionHost(guest, HOST_KIT_ARGS, { wrap: acceptingInvalidNames }));
      expectFailedChecks(results, INVALID_NAME_CHECKS);
      expect(results.find((r) => r.check === "invalid_name: 4-character extension")!.detail).to.equal("store '/CONFORM/PROOF.JSON': expected error invalid_name, got ok");
    });

    it("a host that drops a log field", () => {
      const results = hostKitResults(runOnSessionHost(guest, HOST_KIT_ARGS, { wrap: droppingBinaryLogFields }));
      expectFailedChecks(results, ["proof.result logs: log fields and levels intact"]);
    });
  });

  describe("reading the reference guest's lines", () => {
    const summary = (pass: number, fail: number, skip: number) => line(SUMMARY_LINE, { fail, pass, skip });

    it("one row per check line, then whether the guest got to the end", () => {
      const rows = hostKitResults({ ok: true, logs: [check("a", "pass"), line("other", {}), check("b", "skip"), summary(1, 0, 1)] });
      expect(rows.map((r) => [r.check, r.result])).to.deep.equal([["a", "pass"], ["b", "skip"], ["the reference guest ran to the end", "pass"]]);
    });

    it("fails the last row when the run failed, the summary is missing, or it disagrees with the lines", () => {
      const last = (run: Parameters<typeof hostKitResults>[0]) => hostKitResults(run).at(-1)!;
      expect(last({ ok: false, error: "witness: limit_exceeded (time): too slow", logs: [check("a", "pass")] })).to.deep.include({ result: "fail", detail: "the run failed: witness: limit_exceeded (time): too slow" });
      expect(last({ ok: true, logs: [check("a", "pass")] })).to.deep.include({ result: "fail", detail: `no ${SUMMARY_LINE} line in the run's logs` });
      expect(last({ ok: true, logs: [check("a", "pass"), summary(2, 0, 0)] }).result).to.equal("fail");
    });

    it("a check line whose result is not pass, fail or skip fails", () => {
      expect(hostKitResults({ ok: true, logs: [check("a", "passed"), summary(0, 1, 0)] })[0]).to.deep.include({ check: "a", result: "fail" });
    });
  });

});

describe("conformance: the reference guest's vectors", () => {
  it("src/vectors.h holds the vectors vectors.mjs selects from protocol/vectors (run it after they change)", async () => {
    const generator = path.join(repoRoot, "examples/conformance-guest/vectors.mjs");
    const { renderHeader } = (await import(pathToFileURL(generator).href)) as { renderHeader: () => string };
    expect(readFileSync(path.join(repoRoot, "examples/conformance-guest/src/vectors.h"), "utf8")).to.equal(renderHeader());
  });
});
