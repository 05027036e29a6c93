import { expect } from "chai";
import { decode, encode, frame, fromHex, type Message } from "@zkguest/protocol";
import { defineController, fs, log, ready, serve, ZkguestError, type ControllerSpec, type ProofResult } from "../src/index.js";
import { FakeHost, LIMITS } from "./fake-host.js";

const data = (...b: number[]) => ({ type: "data" as const, data: new Uint8Array(b) });

/** Serves a controller made of `spec` on a fresh fake host. */
function serving(spec: Partial<ControllerSpec>): FakeHost {
  const host = new FakeHost();
  serve(defineController({ getWitnesses: () => [data(1)], entrypoint: () => {}, ...spec }));
  return host;
}

function errorOf(m: Message): { code: string; message: string } {
  expect(m.kind, JSON.stringify(m)).to.equal("error");
  return m.body as { code: string; message: string };
}

/** What `fn` throws, or "no error". */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
    return "no error";
  } catch (e) {
    return e instanceof ZkguestError ? { code: e.code, message: e.message } : e;
  }
}

describe("guest SDK: the conversation (SPEC.md §2)", () => {
  it("answers hello with the negotiated version: highest common major, lower minor", async () => {
    const host = serving({});
    const answer = await host.hello([[1, 9], [7, 0]]);
    expect(answer).to.deep.equal({ v: [1, 1], id: 1, kind: "ok", body: { value: { guest: "zkguest-guest-sdk/0.1.0", version: [1, 1] } } });
    // A 1.0 host gets 1.0, in the answer's envelope too.
    const older = await serving({}).hello([[1, 0]]);
    expect(older).to.deep.include({ v: [1, 0], body: { value: { guest: "zkguest-guest-sdk/0.1.0", version: [1, 0] } } });
  });

  it("refuses hello with no common major naming both sides, then does nothing else", async () => {
    const host = serving({ getWitnesses: () => void log.info("must not run") });
    expect(errorOf(await host.hello([[2, 0], [3, 1]]))).to.deep.equal({ code: "unsupported_version", message: "peer offers 2.0, 3.1; this side speaks 1.1: no common major version" });
    expect(errorOf(await host.send("witness.get", { args: null })).code).to.equal("invalid_state");
    expect(host.requests).to.deep.equal([]);
  });

  it("requires hello first, and only once", async () => {
    const host = serving({});
    expect(errorOf(await host.send("witness.get", { args: null })).message).to.equal("hello must be the first request");
    await host.hello();
    expect(errorOf(await host.hello()).code).to.equal("invalid_state");
  });

  it("sends witness.ready exactly once: ready(), returned witnesses, or both when they agree", async () => {
    for (const getWitnesses of [
      () => ready([data(1)]),
      () => [data(1)],
      () => {
        const w = [data(1)];
        ready(w);
        return w;
      },
    ]) {
      const host = serving({ getWitnesses });
      await host.hello();
      expect((await host.send("witness.get", { args: 1 })).kind).to.equal("ok");
      expect(host.requests).to.deep.equal([{ v: [1, 1], id: 1, kind: "witness.ready", body: { witnesses: [data(1)] } }]);
    }
  });

  it("refuses a second ready() in the guest, before it reaches the host", async () => {
    let second: unknown;
    const host = serving({
      getWitnesses() {
        ready([data(1)]);
        second = thrown(() => ready([data(2)]));
      },
    });
    await host.hello();
    expect((await host.send("witness.get", { args: null })).kind).to.equal("ok");
    expect(second).to.deep.equal({ code: "invalid_state", message: "ready() was already called in this witness step" });
    expect(host.kinds()).to.deep.equal(["witness.ready"]);
  });

  it("answers invalid_state when getWitnesses gives no witnesses, or returns others than it sent", async () => {
    const none = serving({ getWitnesses: () => undefined });
    await none.hello();
    expect(errorOf(await none.send("witness.get", { args: null }))).to.deep.equal({ code: "invalid_state", message: "getWitnesses ended without calling ready() or returning the witnesses" });
    const other = serving({
      getWitnesses() {
        ready([data(1)]);
        return [data(2)];
      },
    });
    await other.hello();
    expect(errorOf(await other.send("witness.get", { args: null })).code).to.equal("invalid_state");
  });

  it("runs an async getWitnesses and entrypoint", async () => {
    const seen: ProofResult[] = [];
    const host = serving({
      async getWitnesses(args) {
        await Promise.resolve();
        log.info("async", { args });
        return [data(2)];
      },
      async entrypoint(result) {
        await Promise.resolve();
        seen.push(result);
      },
    });
    await host.hello();
    expect((await host.send("witness.get", { args: [1.5, "a"] })).kind).to.equal("ok");
    const logs = [{ level: "info" as const, message: "async", fields: { args: [1.5, "a"] } }];
    expect((await host.send("proof.result", { success: false, args: [1.5, "a"], logs, error: { code: "internal", message: "prover died" } })).kind).to.equal("ok");
    expect(seen).to.deep.equal([{ success: false, proof: undefined, args: [1.5, "a"], logs, error: { code: "internal", message: "prover died" } }]);
    expect(host.kinds()).to.deep.equal(["log", "witness.ready"]);
  });

  it("passes proof.result's stage (which step failed) to the entrypoint, and refuses one beside success (SPEC.md §5.1)", async () => {
    const got: ProofResult[] = [];
    const host = serving({ entrypoint: (r) => void got.push(r) });
    await host.hello();
    for (const stage of ["witness", "prove"] as const) {
      expect((await host.send("proof.result", { success: false, args: null, logs: [], error: { code: "internal", message: "x" }, stage })).kind).to.equal("ok");
    }
    expect(got.map((r) => r.stage)).to.deep.equal(["witness", "prove"]);
    const wrong = await host.send("proof.result", { success: true, proof: new Uint8Array([1]), args: null, logs: [], stage: "prove" } as never);
    expect(wrong.kind).to.equal("error");
    expect((wrong.body as { message: string }).message).to.match(/stage names the step that failed, only when success is false/);
    const unknown = await host.send("proof.result", { success: false, args: null, logs: [], error: { code: "internal", message: "x" }, stage: "verify" } as never);
    expect(unknown.kind).to.equal("error");
    expect(got).to.have.length(2);
  });

  it("passes an unknown error code to the entrypoint as internal, keeping the code (SPEC.md §8)", async () => {
    let got: ProofResult | undefined;
    const host = serving({ entrypoint: (r) => void (got = r) });
    await host.hello();
    await host.send("proof.result", { success: false, args: null, logs: [], error: { code: "prover_melted", message: "hot" } });
    expect(got?.error).to.deep.equal({ code: "internal", message: "[prover_melted] hot" });
  });

  it("lets a controller's exception escape to the host, which reports it with its stack", async () => {
    const host = serving({
      getWitnesses() {
        throw new RangeError("bad args");
      },
    });
    await host.hello();
    let escaped: unknown;
    try {
      await host.send("witness.get", { args: null });
    } catch (e) {
      escaped = e;
    }
    expect(escaped).to.be.instanceOf(RangeError).with.property("message", "bad args");
  });

  it("numbers its own requests from 1, and checks the answer's id", async () => {
    const host = serving({
      getWitnesses() {
        log.debug("one");
        log.debug("two");
      },
    });
    await host.hello();
    await host.send("witness.get", { args: null });
    expect(host.requests.map((m) => m.id)).to.deep.equal([1, 2]);
    const wrongId = serving({ getWitnesses: () => void log.info("x") });
    wrongId.answer = () => ({ value: null });
    (globalThis as { __zkguest_call?: unknown }).__zkguest_call = () => encode(frame("ok", 99, { value: null })).slice().buffer;
    await wrongId.hello();
    // The broken answer fails the SDK call; the controller lets it through, so witness.get is answered with its code (SPEC.md §2).
    const answer = await wrongId.send("witness.get", { args: null });
    expect(answer).to.deep.include({ kind: "error", id: 2 });
    expect((answer.body as { code: string }).code).to.equal("malformed_frame");
  });

  it("answers a refused host frame with its id when it can be read, and with id 0 when it cannot", async () => {
    const host = serving({});
    await host.hello();
    const badBody = encode(frame("witness.get", 5, { args: null })).slice();
    const args = Buffer.from(badBody).indexOf("args");
    badBody[args] = 0x41; // "args" -> "Args": the required field is missing
    expect(await host.sendBytes(badBody)).to.deep.include({ id: 5, kind: "error", body: { code: "malformed_frame", message: "witness.get body.args: expected a value, got nothing" } });
    const unknown = encode({ v: [1, 0], id: 6, kind: "witness.teleport", body: {} } as never);
    expect(errorOf(await host.sendBytes(unknown)).code).to.equal("unknown_kind");
    const fromGuestSide = encode(frame("log", 7, { level: "info", message: "hi" }));
    expect(errorOf(await host.sendBytes(fromGuestSide)).code).to.equal("invalid_state");
    // A fault inside the value (a duplicate key in the body) leaves the id readable (SPEC.md §3.4).
    const duplicate = fromHex("84a4626f647982a461726773c0a461726773c0a2696408a46b696e64ab7769746e6573732e676574a176920101");
    expect(await host.sendBytes(duplicate)).to.deep.include({ id: 8, kind: "error" });
    expect(await host.sendBytes(new Uint8Array([0x93, 1, 2]))).to.deep.include({ id: 0, kind: "error", body: { code: "malformed_frame", message: "byte 1: a container declares 3 items but 2 bytes remain" } });
  });
});

describe("guest SDK: fs and log", () => {
  it("surfaces a host error as a ZkguestError the guest can catch and read (a 4-character extension)", async () => {
    let caught: unknown;
    const host = serving({
      entrypoint(result) {
        try {
          fs.store("/var/share/proof.json", result.proof!);
        } catch (e) {
          caught = e;
        }
      },
    });
    host.answer = (m) => (m.kind === "fs.store" ? { code: "invalid_name", message: "proof.json: extension 'json' has 4 characters, FAT-16 allows 3" } : { value: null });
    await host.hello();
    expect((await host.send("proof.result", { success: true, proof: new Uint8Array([1]), args: null, logs: [] })).kind).to.equal("ok");
    expect(caught).to.be.instanceOf(ZkguestError);
    expect(caught).to.include({ code: "invalid_name", message: "proof.json: extension 'json' has 4 characters, FAT-16 allows 3" });
  });

  it("sends each fs call as its request and checks the answer's shape", async () => {
    const stat = { name: "PROOF.BIN", type: "file", size: 3, modified: "2024-01-01T00:00:00" };
    const results: unknown[] = [];
    const host = serving({
      entrypoint() {
        results.push(fs.store("/var/share/proof.bin", "abc"));
        results.push(fs.store("/a/b.bin", new Uint8Array([1]), { mode: "create" }));
        results.push(fs.append("/a/b.bin", new Uint8Array([2])));
        results.push(fs.stat("/a/b.bin"), fs.list("/a"), fs.remove("/a/b.bin"), fs.mkdir("/x/y", { parents: true }), fs.mkdir("/z"));
        results.push(thrown(() => fs.read("/a/b.bin", { offset: 1, length: 2 })));
      },
    });
    host.answer = (m) => ({ value: m.kind === "fs.list" ? [stat] : m.kind.startsWith("fs.s") ? stat : null });
    await host.hello();
    await host.send("proof.result", { success: true, proof: new Uint8Array(0), args: null, logs: [] });
    expect(host.requests.map((m) => [m.kind, m.body])).to.deep.equal([
      ["fs.store", { path: "/var/share/proof.bin", data: new Uint8Array([97, 98, 99]), mode: "overwrite" }],
      ["fs.store", { path: "/a/b.bin", data: new Uint8Array([1]), mode: "create" }],
      ["fs.store", { path: "/a/b.bin", data: new Uint8Array([2]), mode: "append" }],
      ["fs.stat", { path: "/a/b.bin" }],
      ["fs.list", { path: "/a" }],
      ["fs.remove", { path: "/a/b.bin" }],
      ["fs.mkdir", { path: "/x/y", parents: true }],
      ["fs.mkdir", { path: "/z" }],
      ["fs.read", { path: "/a/b.bin", offset: 1, length: 2 }],
    ]);
    expect(results.slice(0, 5)).to.deep.equal([stat, stat, stat, stat, [stat]]);
    // fs.read answered nil instead of bytes: a broken answer, never a silent success.
    expect(results[8]).to.deep.equal({ code: "malformed_frame", message: "the host answered fs.read with something other than bytes" });
  });

  it("reads a whole file in ranges that fit the host's frame limit", async () => {
    const file = Uint8Array.from({ length: 1000 }, (_, i) => i & 0xff);
    let read: Uint8Array | undefined;
    const host = serving({ entrypoint: () => void (read = fs.read("/big.bin")) });
    host.answer = (m) => {
      const b = m.body as { offset: number; length: number };
      return { value: file.slice(b.offset, b.offset + b.length) };
    };
    await host.hello([[1, 0]], { ...LIMITS, max_frame_bytes: 400 });
    await host.send("proof.result", { success: true, proof: new Uint8Array(0), args: null, logs: [] });
    expect(read).to.deep.equal(file);
    expect(host.requests.map((m) => (m.body as { length: number }).length)).to.deep.equal([336, 336, 336]);
  });

  it("checks its own requests against the host's limits before sending", async () => {
    const outcomes: unknown[] = [];
    const host = serving({
      entrypoint() {
        outcomes.push(thrown(() => log.info("é".repeat(50))));
        outcomes.push(thrown(() => fs.stat(`/${"A".repeat(40)}`)));
        outcomes.push(thrown(() => fs.store("/big.bin", new Uint8Array(300))));
      },
    });
    await host.hello([[1, 0]], { max_frame_bytes: 200, max_path_bytes: 20, max_log_message_bytes: 60 });
    await host.send("proof.result", { success: true, proof: new Uint8Array(0), args: null, logs: [] });
    expect(outcomes).to.deep.equal([
      { code: "limit_exceeded", message: "log message is longer than the host's limit of 60 bytes" },
      { code: "invalid_path", message: "path is longer than the host's limit of 20 bytes" },
      { code: "frame_too_large", message: "the fs.store frame is 367 bytes, the host's limit is 200" },
    ]);
    expect(host.requests).to.deep.equal([]);
  });

  it("refuses SDK calls outside getWitnesses and entrypoint", () => {
    serving({});
    expect(thrown(() => log.info("too early"))).to.deep.equal({ code: "invalid_state", message: "log outside a host request: the SDK's calls work inside getWitnesses and entrypoint" });
    expect(thrown(() => ready([]))).to.have.property("code", "invalid_state");
  });

  it("defineController checks its entry points", () => {
    expect(() => defineController({ getWitnesses: () => [] } as never)).to.throw(TypeError, "entrypoint must be a function");
    expect(Object.isFrozen(defineController({ getWitnesses: () => [], entrypoint: () => {} }))).to.equal(true);
  });

  it("writes frames the reference decodes to the same message", async () => {
    const host = serving({ getWitnesses: () => void log.warn("w", { b: new Uint8Array([1]), n: -5, big: 2 ** 40, neg: -(2 ** 40), f: 0.25, s: "ü😀", a: [null, true] }) });
    await host.hello();
    await host.send("witness.get", { args: null });
    const sent = host.requests[0]!;
    expect(decode(encode(sent))).to.deep.equal({ _tag: "Right", right: sent });
    expect(sent.body).to.deep.equal({ level: "warn", message: "w", fields: { b: new Uint8Array([1]), n: -5, big: 2 ** 40, neg: -(2 ** 40), f: 0.25, s: "ü😀", a: [null, true] } });
  });
});
