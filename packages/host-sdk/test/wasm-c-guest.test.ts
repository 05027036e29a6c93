import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect } from "chai";
import { either as E } from "fp-ts";
import { decode, DEFAULT_LIMITS, encode, frame, type Message, type Response, type Value } from "@zkguest/protocol";
import { DEFAULT_ENGINE_LIMITS, type GuestInstance } from "../src/engine/engine.js";
import { WasmEngine, type WasmGuest } from "../src/engine/wasm.js";
import { encodeValue, expectFailure } from "./wasm-helpers.js";

const BUILD_SCRIPT = fileURLToPath(new URL("../../../../examples/c-guest/build.sh", import.meta.url));
const GUEST_WASM = fileURLToPath(new URL("../../../../examples/c-guest/build/guest.wasm", import.meta.url));

/**
 * A host that answers the guest's requests from a script and records them, decoded with the
 * protocol's own decoder (a frame it cannot decode fails the test).
 */
class ScriptedHost {
  readonly received: Message[] = [];
  /** Answers fs.store with this error instead of ok, when set. */
  storeError: { code: "quota_exceeded"; message: string } | undefined;

  readonly handler = (request: Uint8Array): Uint8Array => {
    const decoded = decode(request);
    if (E.isLeft(decoded)) throw new Error(`the guest sent a frame the protocol refuses: ${decoded.left.code}: ${decoded.left.message}`);
    const m = decoded.right;
    this.received.push(m);
    if (m.kind === "fs.store") {
      if (this.storeError) return encode(frame("error", m.id, this.storeError));
      return encode(frame("ok", m.id, { value: { name: "PROOF.BIN", type: "file", size: m.body.data.length, modified: "2024-01-01T00:00:00" } }));
    }
    return encode(frame("ok", m.id, { value: null }));
  };
}

function send(instance: GuestInstance, request: Message): Response {
  const decoded = decode(instance.handle(encode(request)));
  if (E.isLeft(decoded)) throw new Error(`the guest replied with a frame the protocol refuses: ${decoded.left.message}`);
  expect(decoded.right.kind).to.be.oneOf(["ok", "error"]);
  return decoded.right as Response;
}

const hello = (offer: [number, number][]) => frame("hello", 1, { offer, host: "zkguest-host/test", limits: DEFAULT_LIMITS });

describe("wasm engine: the C example guest", function () {
  let guest: WasmGuest;

  before(function () {
    this.timeout(120_000);
    const clang = spawnSync(process.env.CC ?? "clang", ["--version"]);
    if (clang.error) {
      console.warn("    skipped: clang is not installed, so examples/c-guest cannot be built (install clang, lld, wasi-libc, libclang-rt-14-dev-wasm32)");
      this.skip();
    }
    execFileSync("sh", [BUILD_SCRIPT], { stdio: "pipe" });
    guest = new WasmEngine().load(readFileSync(GUEST_WASM));
  });

  it("runs hello, witness.get and proof.result, sending frames the protocol decodes", function () {
    const host = new ScriptedHost();
    const instance = guest.instantiate(host.handler, DEFAULT_ENGINE_LIMITS);
    const args: Value = { block: 123456, chain: "ethereum", keys: [1, -2, "x"], ratio: 0.5 };

    expect(send(instance, hello([[2, 0], [1, 7]]))).to.deep.equal(
      frame("ok", 1, { value: { guest: "zkguest-c-example/0.1.0", version: [1, 1] } }),
    );

    expect(send(instance, frame("witness.get", 2, { args }))).to.deep.equal(frame("ok", 2, { value: null }));
    const argsBytes = encodeValue(args);
    expect(host.received).to.deep.equal([
      frame("log", 1, { level: "info", message: "computing the witnesses", fields: { args_bytes: argsBytes.length } }),
      frame("witness.ready", 2, { witnesses: [{ type: "data", data: argsBytes }] }),
    ]);
    expect(instance.drainOutput()).to.deep.equal([{ level: "info", message: `witness.get: ${argsBytes.length} bytes of arguments` }]);

    const proof = new Uint8Array(3000).map((_, i) => i * 7);
    expect(send(instance, frame("proof.result", 3, { success: true, args, logs: [], proof }))).to.deep.equal(frame("ok", 3, { value: null }));
    expect(host.received.slice(2)).to.deep.equal([
      frame("fs.store", 3, { path: "/var/share/proof.bin", data: proof, mode: "overwrite" }),
      frame("log", 4, { level: "info", message: "stored the proof", fields: { bytes: 3000, path: "/var/share/proof.bin" } }),
    ]);
    expect(instance.memoryUsed()).to.be.greaterThan(0);
    instance.dispose();
  });

  it("answers unsupported_version when the offer has no major 1", function () {
    const instance = guest.instantiate(new ScriptedHost().handler, DEFAULT_ENGINE_LIMITS);
    expect(send(instance, hello([[2, 0], [3, 1]]))).to.deep.equal(
      frame("error", 1, { code: "unsupported_version", message: "peer offers 2.0, 3.1; this side speaks 1.1: no common major version" }),
    );
  });

  it("passes a failed fs.store back as the error of proof.result", function () {
    const host = new ScriptedHost();
    host.storeError = { code: "quota_exceeded", message: "the program's disk holds at most 1024 bytes" };
    const instance = guest.instantiate(host.handler, DEFAULT_ENGINE_LIMITS);
    const response = send(instance, frame("proof.result", 9, { success: true, args: null, logs: [], proof: new Uint8Array(2000) }));
    expect(response).to.deep.equal(frame("error", 9, host.storeError));
    expect(host.received.map((m) => m.kind)).to.deep.equal(["fs.store", "log"]);
    expect(host.received[1]).to.deep.include({ body: { level: "error", message: `storing the proof failed: quota_exceeded: ${host.storeError.message}` } });
  });

  it("logs a failed proving and stores nothing", function () {
    const host = new ScriptedHost();
    const instance = guest.instantiate(host.handler, DEFAULT_ENGINE_LIMITS);
    const error = { code: "internal" as const, message: "the prover crashed" };
    expect(send(instance, frame("proof.result", 4, { success: false, args: null, logs: [], error }))).to.deep.equal(frame("ok", 4, { value: null }));
    expect(host.received).to.deep.equal([frame("log", 1, { level: "warn", message: "proving failed: internal: the prover crashed" })]);
  });

  it("is deterministic: two instances send the same bytes", function () {
    const run = () => {
      const frames: Uint8Array[] = [];
      const host = new ScriptedHost();
      const instance = guest.instantiate((request) => (frames.push(request), host.handler(request)), DEFAULT_ENGINE_LIMITS);
      frames.push(instance.handle(encode(frame("witness.get", 1, { args: { seed: 42 } }))));
      return Buffer.concat(frames).toString("hex");
    };
    expect(run()).to.equal(run());
  });

  it("cannot start under a memory limit below its initial memory", function () {
    expectFailure(() => guest.instantiate(new ScriptedHost().handler, { ...DEFAULT_ENGINE_LIMITS, memoryBytes: 65536 }), "limit_exceeded", "memory");
  });
});
