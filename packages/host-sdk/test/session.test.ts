import { expect } from "chai";
import { either as E } from "fp-ts";
import path from "node:path";
import { formatVolume, Volume } from "@zkguest/fat16";
import { decode, encode, frame, type Frame, type Message, type Value, type Witness } from "@zkguest/protocol";
import type { EngineLimits, GuestInstance, HostCallHandler, LoadedGuest } from "../src/engine/engine.js";
import { WasmEngine } from "../src/engine/wasm.js";
import { MAX_GUEST_TEXT_BYTES } from "../src/guest-text.js";
import { DEFAULT_RUN_LIMITS, resolveLimits, type RunLimits } from "../src/run-limits.js";
import { LazyDisk } from "../src/session/disk.js";
import { runPhase, type PhaseInput, type PhaseOutcome } from "../src/session/session.js";
import { exampleGuestWasm, request, requireClang, script, scriptGuestWasm, tempDir, type Step } from "./host-fixtures.js";

const LIMITS = resolveLimits(DEFAULT_RUN_LIMITS, { timeMs: 2_000, memoryBytes: 16 * 1024 * 1024 });

/** The responses the script guest kept, read back from the data witnesses its "ready" step sends. */
function keptResponses(outcome: PhaseOutcome): Message[] {
  return (outcome.witnesses ?? []).map((w: Witness) => {
    if (w.type !== "data") throw new Error("expected data witnesses");
    const m = decode(w.data);
    if (E.isLeft(m)) throw new Error(`a kept response does not decode: ${m.left.message}`);
    return m.right;
  });
}

function errorOf(m: Message): { code: string; message: string } {
  expect(m.kind, JSON.stringify(m)).to.equal("error");
  return (m as Frame<"error">).body;
}

/**
 * A guest written in TypeScript, for what a real guest cannot easily be made to do: answer
 * hello wrongly, send frames too large, answer another id.
 */
class FakeGuest implements LoadedGuest {
  readonly engine = "wasm" as const;
  readonly retainedBytes = 0;
  constructor(private readonly behave: (host: HostCallHandler, request: Message) => Uint8Array) {}
  instantiate(host: HostCallHandler, _limits: EngineLimits): GuestInstance {
    return {
      handle: (bytes) => {
        const m = decode(bytes);
        if (E.isLeft(m)) throw new Error("the host sent a frame the protocol refuses");
        return this.behave(host, m.right);
      },
      memoryUsed: () => 65536,
      drainOutput: () => [],
      dispose: () => {},
    };
  }
  dispose(): void {}
}

const okHello = (m: Message) => encode(frame("ok", m.id, { value: { guest: "fake/1", version: [1, 0] } }));
const okNil = (m: Message) => encode(frame("ok", m.id, { value: null }));
const readyFrame = request("witness.ready", { witnesses: [{ type: "data", data: new Uint8Array([1, 2]) }] });

describe("session: one phase of one run", function () {
  let tmp: ReturnType<typeof tempDir>;
  let image: string;
  let disk: LazyDisk;
  let scriptGuest: LoadedGuest;

  before(function () {
    this.timeout(60_000);
    requireClang(this);
    scriptGuest = new WasmEngine().load(scriptGuestWasm());
  });

  beforeEach(function () {
    tmp = tempDir("zkguest-session-");
    image = path.join(tmp.dir, "disk.img");
    formatVolume(image, { size: 4 * 1024 * 1024 });
    disk = new LazyDisk(image, { bytes: LIMITS.quotaBytes, files: LIMITS.quotaFiles });
  });

  afterEach(() => {
    disk.close();
    tmp.remove();
  });

  const witness = (guest: LoadedGuest, args: Value, limits: RunLimits = LIMITS) => runPhase(guest, disk, { phase: "witness", args, limits });
  const runScript = (steps: Step[], limits: RunLimits = LIMITS) => witness(scriptGuest, script(steps), limits);

  describe("with the C example guest", () => {
    let guest: LoadedGuest;
    before(() => {
      guest = new WasmEngine().load(exampleGuestWasm());
    });

    it("witness step: hello, witness.get, one witness, its logs and stdout in order", () => {
      const outcome = witness(guest, { block: 7 });
      expect(outcome.error).to.equal(undefined);
      expect(outcome.witnesses).to.have.length(1);
      expect(outcome.logs.map((l) => [l.source, l.level, l.message])).to.deep.equal([
        ["guest", "info", "witness.get: 8 bytes of arguments"],
        ["guest", "info", "computing the witnesses"],
      ]);
      expect(outcome.logs[1]!.fields).to.deep.equal({ args_bytes: 8 });
      expect(outcome.hostCalls).to.equal(2);
      expect(outcome.peakMemoryBytes).to.be.greaterThan(0);
      expect(disk.opened, "a phase that does not use the disk does not open it").to.equal(false);
    });

    it("entrypoint: the proof is stored on the program's disk and listed as a file", () => {
      const proof = new Uint8Array(5000).map((_, i) => i % 251);
      const input: PhaseInput = { phase: "entrypoint", args: { block: 7 }, limits: LIMITS, proof: { success: true, proof, logs: [] } };
      const outcome = runPhase(guest, disk, input);
      disk.close();
      expect(outcome.error).to.equal(undefined);
      expect(outcome.files).to.deep.equal([{ path: "/VAR/SHARE/PROOF.BIN", bytes: 5000 }]);
      expect(outcome.bytesStored).to.equal(5000);
      const volume = Volume.open(image, { readOnly: true });
      expect(volume.readFile("/var/share/proof.bin")).to.deep.equal(proof);
      volume.close();
    });

    it("entrypoint after a failed proving: the guest is told the error and stores nothing", () => {
      const input: PhaseInput = {
        phase: "entrypoint",
        args: null,
        limits: LIMITS,
        proof: { success: false, error: { code: "internal", message: "the prover crashed" }, logs: [] },
      };
      const outcome = runPhase(guest, disk, input);
      expect(outcome.error).to.equal(undefined);
      expect(outcome.files).to.deep.equal([]);
      expect(outcome.logs.map((l) => l.message)).to.deep.equal(["proving failed: internal: the prover crashed"]);
    });

    it("a store refused by the quota comes back to the guest, which fails proof.result with it", () => {
      const small = new LazyDisk(image, { bytes: 1 });
      const input: PhaseInput = { phase: "entrypoint", args: null, limits: LIMITS, proof: { success: true, proof: new Uint8Array(100), logs: [] } };
      const outcome = runPhase(guest, small, input);
      small.close();
      expect(outcome.error?.code).to.equal("quota_exceeded");
      expect(outcome.logs.map((l) => `${l.source} ${l.level}`)).to.deep.equal(["host warn", "guest error", "host error"]);
      expect(outcome.logs[0]!.message).to.match(/^fs\.store answered quota_exceeded: /);
    });
  });

  describe("the conversation's rules", () => {
    it("witness.ready is accepted once; a second one is answered invalid_state", () => {
      const outcome = runScript([readyFrame, readyFrame]);
      expect(outcome.error).to.equal(undefined);
      expect(outcome.witnesses).to.deep.equal([{ type: "data", data: new Uint8Array([1, 2]) }]);
      expect(outcome.logs.map((l) => l.message)).to.deep.equal(["witness.ready answered invalid_state: witness.ready was already sent in this witness step; it is sent exactly once"]);
    });

    it("answering witness.get without witness.ready fails the witness step with invalid_state", () => {
      const outcome = runScript([]);
      expect(outcome.error).to.deep.include({ code: "invalid_state" });
      expect(outcome.witnesses).to.equal(undefined);
      expect(outcome.logs.at(-1)).to.deep.include({ source: "host", level: "error" });
    });

    it("witness.ready during proof.result is answered invalid_state", () => {
      const input: PhaseInput = { phase: "entrypoint", args: script([], [readyFrame]), limits: LIMITS, proof: { success: true, proof: new Uint8Array(1), logs: [] } };
      const outcome = runPhase(scriptGuest, disk, input);
      expect(outcome.error).to.equal(undefined);
      expect(outcome.witnesses).to.equal(undefined);
      expect(outcome.logs[0]!.message).to.match(/^witness\.ready answered invalid_state: witness\.ready is allowed only while the guest handles witness\.get/);
    });

    it("a guest request outside a host request is answered invalid_state", () => {
      let early: Uint8Array | undefined;
      const guest: LoadedGuest = {
        engine: "wasm",
        retainedBytes: 0,
        instantiate(host) {
          early = host(request("log", { level: "info", message: "too early" }));
          return new FakeGuest((_h, m) => (m.kind === "hello" ? okHello(m) : okNil(m))).instantiate(host, LIMITS);
        },
        dispose() {},
      };
      witness(guest, null);
      expect(errorOf(E.getOrElseW(() => { throw new Error("undecodable"); })(decode(early!))).code).to.equal("invalid_state");
    });

    it("the guest's unsupported_version ends the run with that code", () => {
      const message = "peer offers 1.0; this side speaks 2.0: no common major version";
      const guest = new FakeGuest((_h, m) => encode(frame("error", m.id, { code: "unsupported_version", message })));
      const outcome = witness(guest, null);
      expect(outcome.error).to.deep.include({ code: "unsupported_version", message: `the guest answered hello with unsupported_version: ${message}` });
    });

    it("an error answer's message, however long, reaches the report cut to MAX_GUEST_TEXT_BYTES", () => {
      const message = "m".repeat(1024 * 1024);
      const guest = new FakeGuest((_h, m) => (m.kind === "hello" ? okHello(m) : encode(frame("error", m.id, { code: "guest_error", message }))));
      const outcome = witness(guest, null);
      expect(Buffer.byteLength(outcome.error!.message, "utf8")).to.be.at.most(MAX_GUEST_TEXT_BYTES);
      expect(outcome.error!.message).to.match(/^the guest answered witness\.get with guest_error: m+ … \[cut: \d+ more characters\]$/);
      expect(outcome.logs.at(-1)!.message.length).to.be.at.most(MAX_GUEST_TEXT_BYTES + 20);
    });

    it("a version the host did not offer is refused", () => {
      const guest = new FakeGuest((_h, m) => encode(frame("ok", m.id, { value: { guest: "fake/1", version: [1, 9] } })));
      expect(witness(guest, null).error).to.deep.include({ code: "unsupported_version" });
    });

    it("a response to another id breaks the conversation", () => {
      const guest = new FakeGuest((_h, m) => (m.kind === "hello" ? okHello(m) : encode(frame("ok", 77, { value: null }))));
      expect(witness(guest, null).error?.message).to.equal("the guest answered witness.get (id 2) with a response to id 77");
    });

    it("an error answering id 0 (the guest could not read the request's id) ends the phase with the guest's code", () => {
      const guest = new FakeGuest((_h, m) => (m.kind === "hello" ? okHello(m) : encode(frame("error", 0, { code: "malformed_frame", message: "byte 1: truncated" }))));
      expect(witness(guest, null).error).to.deep.include({ code: "malformed_frame", message: "the guest could not read the witness.get request: byte 1: truncated" });
    });

    it("announces the run's limits in hello and writes the agreed version in every frame", () => {
      let hello: Message | undefined;
      const guest = new FakeGuest((host, m) => {
        if (m.kind === "hello") {
          hello = m;
          return okHello(m);
        }
        const answer = decode(host(readyFrame));
        expect(E.isRight(answer) && answer.right.v).to.deep.equal([1, 0]); // a 1.0 guest: the 1.1 host writes 1.0
        return okNil(m);
      });
      expect(witness(guest, null).error).to.equal(undefined);
      expect(hello?.body).to.deep.include({ offer: [[1, 1]], host: "zkguest-host/0.1.0" });
      expect((hello as Frame<"hello">).body.limits).to.deep.include({ max_frame_bytes: LIMITS.maxFrameBytes, time_ms: LIMITS.timeMs, quota_files: LIMITS.quotaFiles });
    });
  });

  describe("frames and limits", () => {
    it("a malformed request with a readable id is answered malformed_frame; the run goes on", () => {
      const bad = encode({ body: { level: "loud", message: "x" }, id: 5, kind: "log", v: [1, 0] } as unknown as Message);
      const outcome = runScript([bad, "ready"]);
      expect(outcome.error).to.equal(undefined);
      const [response] = keptResponses(outcome);
      expect(response!.id).to.equal(5);
      expect(errorOf(response!).code).to.equal("malformed_frame");
    });

    it("a frame whose id cannot be read ends the run with malformed_frame", () => {
      const outcome = runScript([new Uint8Array([0xc1]), readyFrame]);
      expect(outcome.error).to.deep.include({ code: "malformed_frame" });
      expect(outcome.witnesses, "nothing after the broken frame ran").to.equal(undefined);
    });

    it("a frame larger than max_frame_bytes ends the run, naming the limit", () => {
      const guest = new FakeGuest((host, m) => (m.kind === "hello" ? okHello(m) : (host(new Uint8Array(LIMITS.maxFrameBytes + 1)), okNil(m))));
      expect(witness(guest, null).error).to.deep.include({ code: "limit_exceeded", limit: "frame_size" });
    });

    it("paths: '..' above the root and paths longer than max_path_bytes are invalid_path; bad names invalid_name", () => {
      const store = (p: string) => request("fs.store", { path: p, data: new Uint8Array([1]), mode: "create" });
      const long = "/" + Array.from({ length: 40 }, () => "ABCDEFG").join("/");
      const outcome = runScript([store("/../../etc/passwd"), store("/var/../../x"), store(long), store("/proof.json"), "ready"]);
      expect(keptResponses(outcome).map((m) => errorOf(m).code)).to.deep.equal(["invalid_path", "invalid_path", "invalid_path", "invalid_name"]);
      disk.close();
      const volume = Volume.open(image, { readOnly: true });
      expect(volume.list("/")).to.deep.equal([]);
      volume.close();
    });

    it("a log message longer than max_log_message_bytes is answered limit_exceeded; the run goes on", () => {
      const limits = resolveLimits(LIMITS, { maxLogMessageBytes: 10 });
      const outcome = runScript([request("log", { level: "info", message: "x".repeat(11) }), request("log", { level: "info", message: "fine" }), "ready"], limits);
      expect(outcome.error).to.equal(undefined);
      expect(keptResponses(outcome).map((m) => m.kind)).to.deep.equal(["error", "ok"]);
      expect(outcome.logs.filter((l) => l.source === "guest").map((l) => l.message)).to.deep.equal(["fine"]);
    });

    it("a log flood ends the run at max_log_bytes, keeping the lines logged until then", () => {
      const limits = resolveLimits(LIMITS, { maxLogBytes: 1000 });
      const line = request("log", { level: "info", message: "y".repeat(100) });
      const outcome = runScript([{ frame: line, repeat: 1_000_000 }, "ready"], limits);
      expect(outcome.error).to.deep.include({ code: "limit_exceeded", limit: "log_bytes" });
      expect(outcome.logs.filter((l) => l.source === "guest")).to.have.length(10);
      expect(outcome.logs.at(-1)).to.deep.include({ source: "host", level: "error" });
    });

    it("a flood of host calls ends the run at max_host_calls", () => {
      const limits = resolveLimits(LIMITS, { maxHostCalls: 500 });
      const stat = request("fs.stat", { path: "/" });
      const outcome = runScript([{ frame: stat, repeat: 1_000_000 }, "ready"], limits);
      expect(outcome.error).to.deep.include({ code: "limit_exceeded", limit: "host_calls" });
      expect(outcome.hostCalls).to.equal(500);
    });

    it("a read whose response would not fit in a frame is answered frame_too_large", () => {
      const limits = resolveLimits(LIMITS, { maxFrameBytes: 8192 });
      const chunk = request("fs.store", { path: "/big.bin", data: new Uint8Array(2500), mode: "append" });
      const outcome = runScript([{ frame: chunk, repeat: 4 }, request("fs.read", { path: "/big.bin" }), request("fs.read", { path: "/big.bin", offset: 9900, length: 1000 }), "ready"], limits);
      const [, whole, tail] = keptResponses(outcome);
      expect(errorOf(whole!).code).to.equal("frame_too_large");
      expect(tail).to.deep.include({ kind: "ok", body: { value: new Uint8Array(100) } });
    });

    it("a full disk is no_space, answered to the guest; the run goes on", () => {
      const chunk = request("fs.store", { path: "/fill.bin", data: new Uint8Array(60_000), mode: "append" });
      const outcome = runScript([{ frame: chunk, repeat: 200 }, "ready"]);
      expect(outcome.error).to.equal(undefined);
      expect(errorOf(keptResponses(outcome)[0]!).code).to.equal("no_space");
    });
  });

  describe("proof.result fits in a frame", () => {
    const entrypoint = (logs: number, proofBytes: number, limits: RunLimits) => {
      let received: Frame<"proof.result"> | undefined;
      const guest = new FakeGuest((_h, m) => {
        if (m.kind === "proof.result") received = m as Frame<"proof.result">;
        return m.kind === "hello" ? okHello(m) : okNil(m);
      });
      const lines = Array.from({ length: logs }, (_, i) => ({ level: "info" as const, message: `line ${i} ${"x".repeat(100)}` }));
      const outcome = runPhase(guest, disk, { phase: "entrypoint", args: null, limits, proof: { success: true, proof: new Uint8Array(proofBytes), logs: lines } });
      return { outcome, received };
    };

    it("the oldest witness-step logs are left out, with a line saying how many", () => {
      const limits = resolveLimits(LIMITS, { maxFrameBytes: 4096 });
      const { outcome, received } = entrypoint(100, 1000, limits);
      expect(outcome.error).to.equal(undefined);
      const logs = received!.body.logs;
      expect(encode(received!).length).to.be.at.most(4096);
      const omitted = Number(/^(\d+) earlier log lines/.exec(logs[0]!.message)?.[1]);
      expect(omitted).to.be.greaterThan(0);
      expect(logs.length - 1 + omitted).to.equal(100);
      expect(logs.at(-1)!.message).to.match(/^line 99 /);
    });

    it("a proof too large for any frame fails the phase with frame_too_large", () => {
      const limits = resolveLimits(LIMITS, { maxFrameBytes: 4096 });
      const { outcome, received } = entrypoint(3, 5000, limits);
      expect(outcome.error).to.deep.include({ code: "frame_too_large" });
      expect(received).to.equal(undefined);
    });
  });

  describe("guest failures keep what was recorded", () => {
    it("a trap: guest_error with the guest's stack, the logs before it kept", () => {
      const outcome = runScript([request("log", { level: "info", message: "before the trap" }), "print", "trap"]);
      expect(outcome.error).to.deep.include({ code: "guest_error" });
      expect(outcome.error?.stack).to.match(/wasm/);
      expect(outcome.logs.map((l) => [l.source, l.message.slice(0, 30)])).to.deep.equal([
        ["guest", "before the trap"],
        ["guest", "printed by the script guest"],
        ["host", "guest_error: the guest trapped"],
      ]);
      expect(outcome.logs[2]!.stack).to.equal(outcome.error?.stack);
    });

    it("exit(3) is a guest failure naming the code", () => {
      expect(runScript(["exit"]).error?.message).to.match(/3/);
    });

    it("a memory bomb ends at the memory limit", () => {
      expect(runScript(["oom"]).error).to.deep.include({ code: "limit_exceeded", limit: "memory" });
    });

    it("a disk that cannot be opened is an error answer that does not name the image's path", () => {
      const missing = new LazyDisk(path.join(tmp.dir, "gone", "disk.img"), {});
      const outcome = runPhase(scriptGuest, missing, { phase: "witness", args: script([request("fs.stat", { path: "/" }), "ready"]), limits: LIMITS });
      const answer = errorOf(keptResponses(outcome)[0]!);
      expect(answer.message).to.include("(the program's disk)").and.not.to.include(tmp.dir);
      expect(outcome.logs[0]!.message).not.to.include(tmp.dir);
    });

    it("a host bug answering a request becomes `internal` for the guest, and the stack is logged", () => {
      const broken = { get: () => { throw new TypeError("the disk exploded"); }, close() {}, opened: false } as unknown as LazyDisk;
      const outcome = runPhase(scriptGuest, broken, { phase: "witness", args: script([request("fs.stat", { path: "/" }), "ready"]), limits: LIMITS });
      expect(errorOf(keptResponses(outcome)[0]!).code).to.equal("internal");
      expect(outcome.logs[0]).to.deep.include({ source: "host", level: "error" });
      expect(outcome.logs[0]!.stack).to.match(/TypeError: the disk exploded/);
    });
  });
});
