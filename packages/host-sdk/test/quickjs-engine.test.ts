import { expect } from "chai";
import { decode, type Message } from "@zkguest/protocol";
import { GuestFailure } from "../src/engine/engine.js";
import { QuickJsEngine } from "../src/engine/quickjs.js";
import { bundleController, bundleSource, Conversation, LIMITS, rawGuest, start, TestHost, utf8 } from "./quickjs-helpers.js";

function okValue(m: Message): unknown {
  expect(m.kind, JSON.stringify(m)).to.equal("ok");
  return (m.body as { value: unknown }).value;
}

describe("QuickJS engine: JS guests through the protocol", function () {
  let engine: QuickJsEngine;
  before(async () => {
    engine = await QuickJsEngine.create();
  });

  it("runs the hello-js example: logs, witnesses from args, proof stored at /var/share/proof.bin", async () => {
    const guest = engine.load(await bundleController("examples/hello-js/controller.ts"));
    const { host, conversation } = start(guest);
    expect(okValue(conversation.hello())).to.deep.equal({ guest: "zkguest-guest-sdk/0.1.0", version: [1, 1] });
    expect(okValue(conversation.witnessGet({ numbers: [1, 2, 3.5] }))).to.equal(null);
    const ready = host.requests.find((m) => m.kind === "witness.ready");
    expect(ready?.body).to.deep.equal({ witnesses: [{ type: "data", data: utf8('{"numbers":[1,2,3.5],"sum":6.5}') }] });
    expect(host.logs()).to.deep.equal(["info: computing witnesses"]);

    const proof = new Uint8Array([0xde, 0xad, 0xbe, 0xef]);
    expect(okValue(conversation.proofResult({ success: true, proof, args: { numbers: [1] } }))).to.equal(null);
    expect(host.files.get("/var/share/proof.bin")).to.deep.equal(proof);
    expect(host.logs()).to.include("info: proof stored");
    conversation.instance.dispose();
  });

  it("answers hello with unsupported_version when there is no common major, and then sends nothing", async () => {
    const guest = engine.load(await bundleController("examples/hello-js/controller.ts"));
    const { host, conversation } = start(guest);
    const refused = conversation.hello([[2, 0]]);
    expect(refused.kind).to.equal("error");
    expect(refused.body).to.deep.equal({ code: "unsupported_version", message: "peer offers 2.0; this side speaks 1.1: no common major version" });
    expect(conversation.witnessGet({ numbers: [1] }).body).to.include({ code: "invalid_state" });
    expect(host.requests).to.deep.equal([]);
    conversation.instance.dispose();
  });

  it("settles a promise returned by an async getWitnesses by running pending jobs", async () => {
    const guest = engine.load(
      await bundleSource(`
        import { defineController, serve, log } from "@zkguest/guest-sdk";
        serve(defineController({
          async getWitnesses(args) {
            await null;
            log.info("after await");
            await Promise.all([1, 2].map(async (x) => x));
            return [{ type: "data", data: new Uint8Array([args.n]) }];
          },
          async entrypoint() {},
        }));`),
    );
    const { host, conversation } = start(guest);
    conversation.hello();
    expect(okValue(conversation.witnessGet({ n: 7 }))).to.equal(null);
    expect(host.requests.map((m) => m.kind)).to.deep.equal(["log", "witness.ready"]);
    conversation.instance.dispose();
  });

  it("is deterministic: Math.random and Date give the same values run after run, and a seed changes them", async () => {
    const guest = engine.load(
      await bundleSource(`
        import { defineController, serve, log } from "@zkguest/guest-sdk";
        serve(defineController({
          getWitnesses() {
            const d = new Date(2020, 0, 2, 3, 4, 5);
            log.info("values", { r: [Math.random(), Math.random()], now: Date.now(), later: Date.now(), date: new Date().toISOString(),
              local: [d.getHours(), d.getTimezoneOffset(), d.toString(), String(Date())] });
            return [];
          },
          entrypoint() {},
        }));`),
    );
    const valuesOf = (options?: { randomSeed: string }) => {
      const host = new TestHost();
      const conversation = new Conversation(guest.instantiate(host.handler, LIMITS, options));
      conversation.hello();
      conversation.witnessGet(null);
      conversation.instance.dispose();
      return (host.requests.find((m) => m.kind === "log")!.body as { fields: Record<string, unknown> }).fields;
    };
    const first = valuesOf();
    expect(valuesOf()).to.deep.equal(first);
    expect(first.now).to.equal(Date.UTC(2024, 0, 1));
    expect(first.later).to.equal(Date.UTC(2024, 0, 1) + 1);
    expect(first.local).to.deep.equal([3, 0, "Thu, 02 Jan 2020 03:04:05 GMT", "Mon, 01 Jan 2024 00:00:00 GMT"]);
    const [r1, r2] = first.r as number[];
    expect(r1).to.be.within(0, 1).and.not.equal(r2);
    expect(valuesOf({ randomSeed: "another run" }).r).not.to.deep.equal(first.r);
  });

  it("returns console output as output lines", async () => {
    const guest = engine.load(rawGuest(`console.log("hello", {a: 1}, [2]); console.error("oops"); globalThis.__zkguest_handle = () => new ArrayBuffer(0);`));
    const instance = guest.instantiate(() => new Uint8Array(0), LIMITS);
    expect(instance.drainOutput()).to.deep.equal([
      { level: "info", message: 'hello {"a":1} [2]' },
      { level: "warn", message: "oops" },
    ]);
    expect(instance.drainOutput()).to.deep.equal([]);
    instance.dispose();
  });

  it("reports a guest exception as guest_error with its message and stack", async () => {
    const guest = engine.load(
      await bundleSource(`
        import { defineController, serve } from "@zkguest/guest-sdk";
        function computeRoot(args) { throw new RangeError("no root for " + JSON.stringify(args)); }
        serve(defineController({ getWitnesses(args) { return computeRoot(args); }, entrypoint() {} }));`,
        { minify: false },
      ),
    );
    const { conversation } = start(guest);
    conversation.hello();
    let failure: unknown;
    try {
      conversation.witnessGet({ n: 1 });
    } catch (e) {
      failure = e;
    }
    expect(failure).to.be.instanceOf(GuestFailure);
    expect(failure).to.include({ code: "guest_error", message: 'RangeError: no root for {"n":1}' });
    expect((failure as GuestFailure).guestStack).to.match(/at computeRoot \(guest\.js:\d+:\d+\)/);
    expect(() => conversation.instance.handle(new Uint8Array(1))).to.throw(/failed and must be disposed/);
    conversation.instance.dispose();
  });

  it("keeps the protocol code of a host error the guest did not catch", async () => {
    const guest = engine.load(await bundleController("examples/hello-js/controller.ts"));
    const { host, conversation } = start(guest);
    host.failing.set("fs.store", "quota_exceeded");
    conversation.hello();
    conversation.witnessGet({ numbers: [] });
    // The SDK answers the request with an error carrying the host's code (SPEC.md §2).
    expect(conversation.proofResult({ success: true, proof: new Uint8Array(1), args: null })).to.deep.include({ kind: "error", body: { code: "quota_exceeded", message: "fs.store failed on purpose" } });
    conversation.instance.dispose();
  });

  it("refuses code that is not UTF-8 at load, and reports a syntax error when instantiated", () => {
    expect(() => engine.load(new Uint8Array([0x66, 0xff]))).to.throw(GuestFailure, "not valid UTF-8");
    const guest = engine.load(utf8("const ok = 1;\nexport const = 1;"));
    expect(() => guest.instantiate(() => new Uint8Array(0), LIMITS)).to.throw(GuestFailure, /^SyntaxError: /).with.property("guestStack").match(/guest\.js:2/);
  });

  it("fails a guest that defines no __zkguest_handle, or whose promise can never settle", async () => {
    expect(() => engine.load(utf8("export const x = 1;")).instantiate(() => new Uint8Array(0), LIMITS)).to.throw(GuestFailure, "__zkguest_handle");
    const stuck = engine.load(rawGuest("globalThis.__zkguest_handle = () => new Promise(() => {});")).instantiate(() => new Uint8Array(0), LIMITS);
    expect(() => stuck.handle(new Uint8Array(1))).to.throw(GuestFailure, "can never settle");
    stuck.dispose();
  });

  it("runs top-level await in the guest module", () => {
    const instance = engine.load(rawGuest("await null; globalThis.__zkguest_handle = (f) => f;")).instantiate(() => new Uint8Array(0), LIMITS);
    expect(instance.handle(new Uint8Array([1, 2, 3]))).to.deep.equal(new Uint8Array([1, 2, 3]));
    instance.dispose();
  });

  it("measures the guest's memory", () => {
    const instance = engine.load(rawGuest("globalThis.keep = new Uint8Array(4 << 20); globalThis.__zkguest_handle = (f) => f;")).instantiate(() => new Uint8Array(0), LIMITS);
    expect(instance.memoryUsed()).to.be.within(4 << 20, 8 << 20);
    instance.dispose();
  });

  it("sends the guest's frames to the host unchanged", () => {
    const seen: Uint8Array[] = [];
    const instance = engine
      .load(rawGuest("globalThis.__zkguest_handle = (f) => __zkguest_call(f);"))
      .instantiate((req) => {
        seen.push(req);
        return new Uint8Array([9]);
      }, LIMITS);
    expect(instance.handle(new Uint8Array([1, 2]))).to.deep.equal(new Uint8Array([9]));
    expect(seen).to.deep.equal([new Uint8Array([1, 2])]);
    expect(decode(new Uint8Array([9]))._tag).to.equal("Left");
    instance.dispose();
  });
});
