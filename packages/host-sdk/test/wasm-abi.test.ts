import { expect } from "chai";
import { ZkguestError } from "@zkguest/protocol";
import { WasmEngine } from "../src/engine/wasm.js";
import { guest, op, REQUEST_AT, replyWithStatus, SCRATCH, statusOf } from "./wasm-assembler.js";
import { ANY_REQUEST, expectFailure, okHost, TEST_LIMITS } from "./wasm-helpers.js";

const engine = new WasmEngine();
const MEMORY_BYTES = 65536; // the test guests' memory: one page
const RESPONSE = new Uint8Array([0xde, 0xad, 0xbe, 0xef, 0x01]);

/** Runs a guest built from `handle` against a host answering RESPONSE; returns its response. */
function run(handle: Parameters<typeof guest>[0], host: (request: Uint8Array) => Uint8Array = () => RESPONSE): Uint8Array {
  return engine.load(guest(handle).build()).instantiate(host, TEST_LIMITS).handle(ANY_REQUEST);
}

/** The status a zkguest function returns for these arguments, as the guest sees it. */
function status(fn: "call" | "take" | "reply", ptr: number, len: number, before: (f: { call: number; take: number }) => number[] = () => []): number {
  return statusOf(run((f) => [...before(f), ...op.i32Const(ptr), ...op.i32Const(len), ...op.call(f[fn]), ...replyWithStatus(f.reply)]));
}

describe("wasm engine: the zkguest ABI (SPEC.md §10.1)", () => {
  it("moves frames both ways: call → host, take → guest, reply → host", () => {
    const seen: Uint8Array[] = [];
    // Forward the host's request as the guest's own, take the response, reply with it.
    const response = run(
      (f) => [
        ...op.localGet(0), ...op.localGet(1), ...op.call(f.call), ...op.localSet(2),
        ...op.localGet(0), ...op.i32Const(4096), ...op.call(f.take), ...op.drop,
        ...op.localGet(0), ...op.localGet(2), ...op.call(f.reply), ...op.drop,
        ...op.i32Const(0),
      ],
      (request) => (seen.push(request), RESPONSE),
    );
    expect(seen).to.deep.equal([ANY_REQUEST]);
    expect(response).to.deep.equal(RESPONSE);
  });

  it("copies frames out of guest memory: the guest cannot change what the host holds", () => {
    const seen: Uint8Array[] = [];
    const zeroRequest = [...op.localGet(0), ...op.i32Const(0), ...op.i32Store]; // overwrite its first 4 bytes
    const response = run(
      (f) => [
        ...op.localGet(0), ...op.localGet(1), ...op.call(f.call), ...op.drop,
        ...op.localGet(0), ...op.localGet(1), ...op.call(f.reply), ...op.drop,
        ...zeroRequest,
        ...op.i32Const(0),
      ],
      (request) => (seen.push(request), RESPONSE),
    );
    expect(seen[0]).to.deep.equal(ANY_REQUEST);
    expect(response).to.deep.equal(ANY_REQUEST);
  });

  it("returns the response length from call", () => {
    expect(status("call", REQUEST_AT, 8)).to.equal(RESPONSE.length);
  });

  it("take: -1 when nothing is pending", () => {
    expect(status("take", REQUEST_AT, 100)).to.equal(-1);
  });

  it("take: -2 when the buffer is too small, and the response stays pending", () => {
    const takeTooSmall = (f: { take: number }) => [...op.i32Const(REQUEST_AT), ...op.i32Const(2), ...op.call(f.take), ...op.i32Const(-2), ...op.i32Ne, ...op.if, ...op.unreachable, ...op.end];
    const callFirst = (f: { call: number; take: number }) => [...op.i32Const(0), ...op.i32Const(8), ...op.call(f.call), ...op.drop, ...takeTooSmall(f)];
    expect(status("take", REQUEST_AT, 100, callFirst)).to.equal(RESPONSE.length);
  });

  it("take: clears the pending response", () => {
    const callAndTake = (f: { call: number; take: number }) => [
      ...op.i32Const(0), ...op.i32Const(8), ...op.call(f.call), ...op.drop,
      ...op.i32Const(REQUEST_AT), ...op.i32Const(100), ...op.call(f.take), ...op.drop,
    ];
    expect(status("take", REQUEST_AT, 100, callAndTake)).to.equal(-1);
  });

  it("call: a new call discards the pending response", () => {
    const responses = [new Uint8Array([1]), new Uint8Array([2, 2])];
    const response = run(
      (f) => [
        ...op.i32Const(0), ...op.i32Const(8), ...op.call(f.call), ...op.drop,
        ...op.i32Const(0), ...op.i32Const(8), ...op.call(f.call), ...op.drop,
        ...op.i32Const(SCRATCH), ...op.i32Const(100), ...op.call(f.take), ...op.localSet(2),
        ...op.i32Const(SCRATCH), ...op.localGet(2), ...op.call(f.reply), ...op.drop,
        ...op.i32Const(0),
      ],
      () => responses.shift()!,
    );
    expect(response).to.deep.equal(new Uint8Array([2, 2]));
  });

  it("call: -3 for a frame larger than max_frame_bytes, which the host does not read", () => {
    const host = okHost();
    const handle = guest((f) => [...op.i32Const(0), ...op.i32Const(TEST_LIMITS.maxFrameBytes + 1), ...op.call(f.call), ...replyWithStatus(f.reply)], { pages: 2 });
    const response = engine.load(handle.build()).instantiate(host.handler, TEST_LIMITS).handle(ANY_REQUEST);
    expect(statusOf(response)).to.equal(-3);
    expect(host.calls).to.equal(0);
  });

  it("reply: -4 the second time", () => {
    const replyOnce = (f: { reply: number }) => [...op.i32Const(0), ...op.i32Const(4), ...op.call(f.reply), ...op.drop];
    // The second reply's status replaces nothing: the first reply is the response.
    const response = run((f) => [...replyOnce(f), ...op.i32Const(0), ...op.i32Const(4), ...op.call(f.reply), ...op.i32Const(-4), ...op.i32Ne, ...op.if, ...op.unreachable, ...op.end, ...op.i32Const(0)]);
    expect(response).to.have.length(4);
  });

  it("call: -4 during _initialize, before any host request", () => {
    const host = okHost();
    const m = guest((f) => [...op.i32Const(SCRATCH), ...op.i32Const(4), ...op.call(f.reply), ...op.drop, ...op.i32Const(0)]);
    // _initialize stores call's status at SCRATCH; the handler replies with those bytes.
    m.func([], [], [...op.i32Const(SCRATCH), ...op.i32Const(0), ...op.i32Const(8), ...op.call(0), ...op.i32Store], { export: "_initialize" });
    const response = engine.load(m.build()).instantiate(host.handler, TEST_LIMITS).handle(ANY_REQUEST);
    expect(statusOf(response)).to.equal(-4);
    expect(host.calls).to.equal(0);
  });

  describe("pointers and lengths outside the memory trap the guest", () => {
    const cases: [fn: "call" | "take" | "reply", ptr: number, len: number][] = [
      ["call", -16, 100], // 0xfffffff0
      ["call", 0, 0x7fffffff], // a huge length
      ["call", MEMORY_BYTES - 2, 3], // one byte past the end
      ["take", MEMORY_BYTES - 1, 100],
      ["reply", -1, 4],
      ["reply", 0, -1], // 0xffffffff
    ];
    for (const [fn, ptr, len] of cases) {
      it(`${fn}(${ptr >>> 0}, ${len >>> 0})`, () => {
        const host = okHost();
        const loaded = engine.load(guest((f) => [...op.i32Const(ptr), ...op.i32Const(len), ...op.call(f[fn]), ...replyWithStatus(f.reply)]).build());
        const instance = loaded.instantiate(host.handler, TEST_LIMITS);
        const failure = expectFailure(() => instance.handle(ANY_REQUEST), "guest_error");
        expect(failure.message).to.match(new RegExp(`^zkguest\\.${fn}: bytes \\[${ptr >>> 0}, \\d+\\) lie outside the guest's memory of ${MEMORY_BYTES} bytes$`));
        expect(failure.guestStack, "the guest's frames").to.match(/wasm-function\[4\]/);
        expect(host.calls).to.equal(0);
        expect(() => instance.handle(ANY_REQUEST)).to.throw(ZkguestError, /failed .* and must be disposed/);
      });
    }
  });

  describe("the exports' contract (SPEC.md §10.2)", () => {
    it("zkguest_handle returning non-zero is a guest failure", () => {
      const failure = expectFailure(() => run((f) => [...op.i32Const(0), ...op.i32Const(4), ...op.call(f.reply), ...op.drop, ...op.i32Const(7)]), "guest_error");
      expect(failure.message).to.equal("zkguest_handle returned 7; it must return 0");
    });

    it("zkguest_handle returning without reply is a guest failure", () => {
      const failure = expectFailure(() => run(() => op.i32Const(0)), "guest_error");
      expect(failure.message).to.equal("zkguest_handle returned without calling reply");
    });

    for (const [ptr, message] of [
      [0, /^zkguest_alloc\(\d+\) returned 0$/],
      [MEMORY_BYTES - 4, /^zkguest_alloc's buffer: bytes \[65532, \d+\) lie outside/],
    ] as const) {
      it(`zkguest_alloc returning ${ptr} is a guest failure`, () => {
        const bytes = guest(() => op.i32Const(0), { alloc: op.i32Const(ptr) }).build();
        expect(expectFailure(() => engine.load(bytes).instantiate(okHost().handler, TEST_LIMITS).handle(ANY_REQUEST), "guest_error").message).to.match(message);
      });
    }
  });

  it("a host handler's own bug passes through unchanged, and the instance is unusable", () => {
    const bug = new TypeError("host bug");
    const instance = engine.load(guest((f) => [...op.i32Const(0), ...op.i32Const(8), ...op.call(f.call), ...replyWithStatus(f.reply)]).build()).instantiate(() => {
      throw bug;
    }, TEST_LIMITS);
    expect(() => instance.handle(ANY_REQUEST)).to.throw(bug);
    expect(() => instance.handle(ANY_REQUEST)).to.throw(ZkguestError, /must be disposed/);
  });

  it("refuses handle() after dispose", () => {
    const instance = engine.load(guest(() => op.i32Const(0)).build()).instantiate(okHost().handler, TEST_LIMITS);
    instance.dispose();
    expect(() => instance.handle(ANY_REQUEST)).to.throw(ZkguestError, /disposed/);
  });
});

