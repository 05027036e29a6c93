import { createHash } from "node:crypto";
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { CLOCK_START_NS, Errno, WASI_SIGNATURES } from "../src/engine/wasi.js";
import { WasmEngine, type WasmInstanceOptions } from "../src/engine/wasm.js";
import { guest, I32, I64, op } from "./wasm-assembler.js";
import { ANY_REQUEST, expectFailure, okHost, TEST_LIMITS } from "./wasm-helpers.js";

const engine = new WasmEngine();
const WASI = "wasi_snapshot_preview1";
/** Where a test guest stores the i32 result of its k-th call (at REGION + 4k), and what it replies with. */
const REGION = 256;
/** Where WASI functions write their outputs in these tests: inside the replied region. */
const OUT = REGION + 64;

type Signature = [params: (typeof I32 | typeof I64)[], results?: (typeof I32)[]];

/**
 * A guest that makes `calls` to the WASI functions in `imports`, storing each one's i32 result
 * at REGION + 4k, then replies with `replyBytes` of memory from REGION.
 */
function wasiGuest(imports: Record<string, Signature>, calls: (fn: Record<string, number>) => number[][], options: { replyBytes?: number; data?: [number, number[]][] } = {}): Uint8Array {
  const fns: Record<string, number> = {};
  const m = guest(
    (f) => [
      ...calls(fns).flatMap((call, k) => [...op.i32Const(REGION + 4 * k), ...call, ...op.i32Store]),
      ...op.i32Const(REGION), ...op.i32Const(options.replyBytes ?? 128), ...op.call(f.reply), ...op.drop,
      ...op.i32Const(0),
    ],
    { setup: (b) => Object.entries(imports).forEach(([name, [params, results]]) => (fns[name] = b.importFunc(WASI, name, params, results))) },
  );
  for (const [offset, bytes] of options.data ?? []) m.data(offset, bytes);
  return m.build();
}

function run(bytes: Uint8Array, options: WasmInstanceOptions = {}) {
  const instance = engine.load(bytes).instantiate(okHost().handler, TEST_LIMITS, options);
  const response = instance.handle(ANY_REQUEST);
  const view = new DataView(response.buffer, response.byteOffset, response.length);
  return {
    result: (k: number) => view.getInt32(4 * k, true),
    u32At: (address: number) => view.getUint32(address - REGION, true),
    u64At: (address: number) => view.getBigUint64(address - REGION, true),
    bytesAt: (address: number, length: number) => response.subarray(address - REGION, address - REGION + length),
    output: instance.drainOutput(),
  };
}

const text = (s: string) => [...new TextEncoder().encode(s)];
const le32 = (...values: number[]) => values.flatMap((v) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24]);
const c = (n: number) => op.i32Const(n);
const FD_WRITE: Signature = [[I32, I32, I32, I32]];

describe("wasm engine: WASI preview1 shim (SPEC.md §10.3)", () => {
  it("captures stdout and stderr as info and warn lines; unfinished lines come out at drain", () => {
    const data: [number, number[]][] = [
      [1000, text("hello\nwor")],
      [1100, text("ld\n")],
      [1200, text("err")],
      [1300, le32(1000, 9, 1100, 3)], // two iovecs for stdout
      [1400, le32(1200, 3)], // one for stderr
    ];
    const r = run(wasiGuest({ fd_write: FD_WRITE }, (fn) => [
      [...c(1), ...c(1300), ...c(2), ...c(OUT), ...op.call(fn.fd_write!)],
      [...c(2), ...c(1400), ...c(1), ...c(OUT + 4), ...op.call(fn.fd_write!)],
    ], { data }));
    expect([r.result(0), r.result(1), r.u32At(OUT), r.u32At(OUT + 4)]).to.deep.equal([Errno.Success, Errno.Success, 12, 3]);
    expect(r.output).to.deep.equal([
      { level: "info", message: "hello" },
      { level: "info", message: "world" },
      { level: "warn", message: "err" },
    ]);
  });

  it("EBADF for other descriptors and for preopens; ENOSYS for what is not implemented", () => {
    const r = run(
      wasiGuest({ fd_write: FD_WRITE, fd_prestat_get: [[I32, I32]], path_open: [[I32, I32, I32, I32, I32, I64, I64, I32, I32]], sock_accept: [[I32, I32, I32]] }, (fn) => [
        [...c(0), ...c(OUT), ...c(0), ...c(OUT), ...op.call(fn.fd_write!)],
        [...c(3), ...c(OUT), ...c(0), ...c(OUT), ...op.call(fn.fd_write!)],
        [...c(3), ...c(OUT), ...op.call(fn.fd_prestat_get!)],
        [...c(3), ...c(0), ...c(OUT), ...c(1), ...c(0), ...op.i64Const(0), ...op.i64Const(0), ...c(0), ...c(OUT), ...op.call(fn.path_open!)],
        [...c(3), ...c(0), ...c(OUT), ...op.call(fn.sock_accept!)],
      ]),
    );
    expect([0, 1, 2, 3, 4].map(r.result)).to.deep.equal([Errno.BadF, Errno.BadF, Errno.BadF, Errno.NoSys, Errno.NoSys]);
  });

  it("no arguments and no environment", () => {
    const r = run(
      wasiGuest({ args_sizes_get: [[I32, I32]], environ_sizes_get: [[I32, I32]] }, (fn) => [
        [...c(OUT), ...c(OUT + 4), ...op.call(fn.args_sizes_get!)],
        [...c(OUT + 8), ...c(OUT + 12), ...op.call(fn.environ_sizes_get!)],
      ], { data: [[OUT, le32(-1, -1, -1, -1)]] }),
    );
    expect([r.result(0), r.result(1), r.u32At(OUT), r.u32At(OUT + 4), r.u32At(OUT + 8), r.u32At(OUT + 12)]).to.deep.equal([0, 0, 0, 0, 0, 0]);
  });

  it("stdout is a character device, so C stdio line-buffers it", () => {
    const r = run(wasiGuest({ fd_fdstat_get: [[I32, I32]] }, (fn) => [[...c(1), ...c(OUT), ...op.call(fn.fd_fdstat_get!)], [...c(4), ...c(OUT + 32), ...op.call(fn.fd_fdstat_get!)]]));
    expect([r.result(0), r.bytesAt(OUT, 1)[0], r.u64At(OUT + 8), r.result(1)]).to.deep.equal([0, 2, 1n << 6n, Errno.BadF]);
  });

  it("the clock starts at a fixed time and advances by one nanosecond per call", () => {
    const time = (fn: Record<string, number>, at: number, id = 0) => [...c(id), ...op.i64Const(1), ...c(at), ...op.call(fn.clock_time_get!)];
    const bytes = wasiGuest({ clock_time_get: [[I32, I64, I32]] }, (fn) => [time(fn, OUT), time(fn, OUT + 8, 1), time(fn, OUT + 16, 9)]);
    const r = run(bytes);
    expect([r.result(0), r.result(1), r.result(2)]).to.deep.equal([0, 0, Errno.Inval]);
    expect([r.u64At(OUT), r.u64At(OUT + 8)]).to.deep.equal([CLOCK_START_NS, CLOCK_START_NS + 1n]);
    expect(run(bytes).u64At(OUT)).to.equal(CLOCK_START_NS); // and again in a new instance
  });

  it("sched_yield succeeds; clock_res_get answers one nanosecond for the four clocks", () => {
    const r = run(
      wasiGuest({ sched_yield: [[]], clock_res_get: [[I32, I32]] }, (fn) => [
        [...op.call(fn.sched_yield!)],
        [...c(3), ...c(OUT), ...op.call(fn.clock_res_get!)],
        [...c(4), ...c(OUT + 8), ...op.call(fn.clock_res_get!)],
      ]),
    );
    expect([r.result(0), r.result(1), r.u64At(OUT), r.result(2)]).to.deep.equal([Errno.Success, Errno.Success, 1n, Errno.Inval]);
  });

  it("SPEC.md §10.3 names exactly the functions the shim implements (every other one is ENOSYS)", () => {
    const spec = readFileSync(fileURLToPath(new URL("../../../../protocol/SPEC.md", import.meta.url)), "utf8");
    const section = spec.slice(spec.indexOf("### 10.3 WASI"), spec.indexOf("### 10.4"));
    const named = new Set([...section.matchAll(/`([a-z]+(?:_[a-z0-9]+)+)(?:\([^`]*\))?`/g)].map((m) => m[1]!).filter((n) => n !== "wasi_snapshot_preview1"));
    expect([...named].sort()).to.deep.equal(Object.keys(WASI_SIGNATURES).sort());
  });

  it("random bytes are SHA-256(seed || block counter), so runs with the same seed agree", () => {
    const bytes = wasiGuest({ random_get: [[I32, I32]] }, (fn) => [[...c(OUT), ...c(40), ...op.call(fn.random_get!)]]);
    const random = (options: WasmInstanceOptions) => Buffer.from(run(bytes, options).bytesAt(OUT, 40));
    const expected = (seed: string) => {
      const block = (n: number) => createHash("sha256").update(seed).update(Buffer.from([n, 0, 0, 0, 0, 0, 0, 0])).digest();
      return Buffer.concat([block(0), block(1)]).subarray(0, 40);
    };
    expect(random({})).to.deep.equal(expected(""));
    expect(random({ randomSeed: "run 7" })).to.deep.equal(expected("run 7"));
    expect(random({ randomSeed: new TextEncoder().encode("run 7") })).to.deep.equal(expected("run 7"));
  });

  describe("pointers outside the memory trap the guest", () => {
    it("fd_write's iovec table", () => {
      const bytes = wasiGuest({ fd_write: FD_WRITE }, (fn) => [[...c(1), ...c(65536 - 4), ...c(1), ...c(OUT), ...op.call(fn.fd_write!)]]);
      expect(expectFailure(() => run(bytes), "guest_error").message).to.equal("wasi fd_write: bytes [65532, 65540) lie outside the guest's memory of 65536 bytes");
    });

    it("a buffer an iovec points at", () => {
      const bytes = wasiGuest({ fd_write: FD_WRITE }, (fn) => [[...c(1), ...c(OUT), ...c(1), ...c(OUT + 8), ...op.call(fn.fd_write!)]], { data: [[OUT, le32(60000, 0x7fffffff)]] });
      expect(expectFailure(() => run(bytes), "guest_error").message).to.match(/^wasi fd_write: bytes \[60000, /);
    });

    it("random_get with a huge length", () => {
      const bytes = wasiGuest({ random_get: [[I32, I32]] }, (fn) => [[...c(0), ...c(-1), ...op.call(fn.random_get!)]]);
      expect(expectFailure(() => run(bytes), "guest_error").message).to.match(/^wasi random_get: bytes \[0, 4294967295\) lie outside/);
    });
  });

  describe("proc_exit ends the call as a guest failure", () => {
    for (const [code, message] of [
      [0, "exit(0) during a call"],
      [7, "the guest exited with code 7"],
    ] as const) {
      it(`proc_exit(${code})`, () => {
        const bytes = wasiGuest({ proc_exit: [[I32], []] }, (fn) => [[...c(code), ...op.call(fn.proc_exit!), ...c(0)]]);
        expect(expectFailure(() => run(bytes), "guest_error").message).to.equal(message);
      });
    }
  });
});
