import { expect } from "chai";
import fc from "fast-check";
import { GuestFailure } from "../src/engine/engine.js";
import { WasmEngine } from "../src/engine/wasm.js";
import { readModule, WasmBinaryError } from "../src/engine/wasm-binary.js";
import { guest, I32, I64, ModuleBuilder, op, uleb } from "./wasm-assembler.js";
import { ANY_REQUEST, expectFailure, okHost, TEST_LIMITS } from "./wasm-helpers.js";

const engine = new WasmEngine();

function refused(bytes: Uint8Array): string {
  return expectFailure(() => engine.load(bytes), "guest_error").message;
}

/** A valid guest that replies `ok`-shaped bytes: the base the refusals below break. */
const valid = () => guest((f) => [...op.i32Const(0), ...op.i32Const(4), ...op.call(f.reply), ...op.drop, ...op.i32Const(0)]);

const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

describe("wasm engine: module checks at load", () => {
  it("loads and runs a minimal valid guest", () => {
    expect(engine.load(valid().build()).instantiate(okHost().handler, TEST_LIMITS).handle(ANY_REQUEST)).to.have.length(4);
  });

  describe("malformed binaries", () => {
    const cases: [string, number[], RegExp][] = [
      ["empty", [], /not a WebAssembly 1\.0 module/],
      ["bad magic", [0x00, 0x61, 0x73, 0x6e, 1, 0, 0, 0], /bad magic number/],
      ["version 2", [0x00, 0x61, 0x73, 0x6d, 2, 0, 0, 0], /bad magic number or version/],
      ["a section longer than the module", [...HEADER, 1, 100, 0], /a length of 100 exceeds the 1 bytes left \(at byte 10\)/],
      ["a 6-byte LEB128", [...HEADER, 1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00], /integer does not fit in 32 bits/],
      ["a count larger than its section", [...HEADER, 1, 5, 0xff, 0xff, 0xff, 0xff, 0x0f], /a count of 4294967295 exceeds the 0 bytes left/],
      ["an unknown section", [...HEADER, 42, 0], /unknown section id 42/],
      ["a section twice", [...HEADER, 1, 1, 0, 1, 1, 0], /section 1 appears twice/],
      ["bytes after a section's content", [...HEADER, 1, 2, 0, 0], /section 1 has 1 bytes after its content/],
      ["an unknown value type", [...HEADER, 1, 4, 1, 0x60, 1, 0x55], /unsupported value type 0x55/],
      ["a non-function type", [...HEADER, 1, 2, 1, 0x5f], /unsupported type form 0x5f/],
      ["a name that is not UTF-8", [...HEADER, 7, 4, 1, 1, 0xff, 0x00], /a name is not valid UTF-8/],
      ["an undefined type index", [...HEADER, 3, 2, 1, 9], /type index 9 is not defined/],
    ];
    for (const [what, bytes, message] of cases) {
      it(what, () => {
        expect(refused(new Uint8Array(bytes))).to.match(/^invalid guest module: /).and.to.match(message);
      });
    }

    it("code V8 refuses to compile", () => {
      const bytes = guest(() => [...op.i32Const(0), ...op.i32Const(0), ...op.i32Add, ...op.drop]).build(); // returns nothing
      expect(refused(bytes)).to.match(/^invalid guest module: WebAssembly\.Module\(\): Compiling function #4 failed: expected 1 elements on the stack/);
    });

    it("never anything but a GuestFailure, whatever the bytes (mutations of a valid guest)", () => {
      const base = valid().build();
      fc.assert(
        fc.property(fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (mutations) => {
          const bytes = base.slice();
          for (const [at, value] of mutations) bytes[at] = value;
          try {
            engine.load(bytes).instantiate(okHost().handler, TEST_LIMITS).handle(ANY_REQUEST);
          } catch (e) {
            if (!(e instanceof GuestFailure)) throw e;
          }
        }),
        { numRuns: 400, seed: 7 },
      );
    });
  });

  describe("the ABI's rules", () => {
    it("imports the host does not provide", () => {
      expect(refused(guest(() => [], { setup: (m) => m.importFunc("env", "foo", [I32]) }).build())).to.equal(
        "invalid guest module: it imports env.foo (func), which the host does not provide",
      );
      expect(refused(guest(() => [], { setup: (m) => m.importFunc("zkguest", "open", [I32]) }).build())).to.match(/imports zkguest\.open \(func\), which the host does not provide/);
      expect(refused(guest(() => [], { setup: (m) => m.importGlobal("zkguest", "call") }).build())).to.match(/imports zkguest\.call \(global\)/);
      // Names of Object.prototype's members are names like any other.
      expect(refused(guest(() => [], { setup: (m) => m.importFunc("zkguest", "constructor", [I32]) }).build())).to.match(/imports zkguest\.constructor \(func\), which the host does not provide/);
      expect(refused(guest(() => op.i32Const(0), { setup: (m) => m.importFunc("wasi_snapshot_preview1", "toString", [I32], [I64]) }).build())).to.match(/imports wasi_snapshot_preview1\.toString as \(i32\) -> i64; a WASI function returns an i32 errno/);
    });

    it("a host function imported with another signature", () => {
      const m = new ModuleBuilder();
      m.importFunc("zkguest", "call", [I32, I32, I32]);
      expect(refused(m.build())).to.equal("invalid guest module: it imports zkguest.call as (i32, i32, i32) -> i32; the host provides (i32, i32) -> i32");
      const w = new ModuleBuilder();
      w.importFunc("wasi_snapshot_preview1", "fd_write", [I32, I32, I32, I64]);
      expect(refused(w.build())).to.match(/imports wasi_snapshot_preview1\.fd_write as \(i32, i32, i32, i64\) -> i32; the host provides \(i32, i32, i32, i32\) -> i32$/);
    });

    it("a WASI function the shim does not implement is accepted (ENOSYS) only if it returns an errno", () => {
      expect(() => engine.load(valid().build())).not.to.throw();
      expect(() => engine.load(guest(() => op.i32Const(0), { setup: (m) => m.importFunc("wasi_snapshot_preview1", "path_open", [I32, I64]) }).build())).not.to.throw();
      expect(refused(guest(() => op.i32Const(0), { setup: (m) => m.importFunc("wasi_snapshot_preview1", "made_up", [I32], [I64]) }).build())).to.match(
        /imports wasi_snapshot_preview1\.made_up as \(i32\) -> i64; a WASI function returns an i32 errno/,
      );
    });

    it("an imported memory", () => {
      const m = new ModuleBuilder().importMemory("env", "memory", 1);
      expect(refused(m.build())).to.equal("invalid guest module: it imports memory (env.memory); a guest defines and exports its own");
    });

    it("no memory, or one that is not exported as 'memory'", () => {
      const noMemory = new ModuleBuilder();
      noMemory.func([I32], [I32], op.i32Const(0), { export: "zkguest_alloc" });
      expect(refused(noMemory.build())).to.equal("invalid guest module: it defines no memory");
      const hidden = new ModuleBuilder().memory(1, undefined, "mem");
      expect(refused(hidden.build())).to.equal("invalid guest module: it does not export its memory as 'memory'");
    });

    it("a shared or 64-bit memory", () => {
      expect(refused(new Uint8Array([...HEADER, 5, 4, 1, 0x03, 1, 1]))).to.match(/memory limits flags 0x3 are not supported/);
      expect(refused(new Uint8Array([...HEADER, 5, 3, 1, 0x04, 1]))).to.match(/memory limits flags 0x4 are not supported/);
    });

    it("missing exports, or exports of the wrong signature", () => {
      const noHandle = new ModuleBuilder().memory(1);
      noHandle.func([I32], [I32], op.i32Const(0), { export: "zkguest_alloc" });
      expect(refused(noHandle.build())).to.equal("invalid guest module: it does not export the function zkguest_handle");
      const wrongAlloc = new ModuleBuilder().memory(1);
      wrongAlloc.func([I64], [I32], op.i32Const(0), { export: "zkguest_alloc" });
      expect(refused(wrongAlloc.build())).to.equal("invalid guest module: it exports zkguest_alloc as (i64) -> i32; the ABI says (i32) -> i32");
      const wrongInit = valid();
      wrongInit.func([], [I32], op.i32Const(0), { export: "_initialize" });
      expect(refused(wrongInit.build())).to.equal("invalid guest module: it exports _initialize as () -> i32; the ABI says () -> ()");
    });

    it("a start function", () => {
      const m = valid();
      m.start(m.func([], [], []));
      expect(refused(m.build())).to.equal("invalid guest module: it has a start function; a guest is a WASI reactor and initializes in _initialize");
    });

    it("tables without a maximum, or too large", () => {
      expect(refused(valid().table(1).build())).to.equal("invalid guest module: a table declares no maximum size");
      expect(refused(valid().table(1, 40000).table(0, 40000).build())).to.equal("invalid guest module: its tables may hold 80000 elements; the limit is 65536");
      expect(() => engine.load(valid().table(5, 5).build())).not.to.throw();
    });
  });

  it("reads the C guest's structure as clang and wasm-ld lay it out", () => {
    // The layout wasm-ld produces for a reactor: a fixed-size funcref table and a memory with
    // no maximum, which the engine caps.
    const m = valid().table(5, 5).build();
    const structure = readModule(m);
    expect(structure.tables).to.deep.equal([{ min: 5, max: 5 }]);
    expect(structure.memories).to.deep.equal([{ min: 1 }]);
    expect(structure.exports.map((e) => e.name)).to.deep.equal(["memory", "zkguest_alloc", "zkguest_handle"]);
    expect(structure.functions).to.have.length(5);
  });

  it("WasmBinaryError names the offset", () => {
    // A type section whose one type ends after its form byte: its parameters would be at 12.
    expect(() => readModule(new Uint8Array([...HEADER, 1, ...uleb(2), 1, 0x60]))).to.throw(WasmBinaryError, "unexpected end of section (at byte 12)");
  });

  it("a data segment outside the initial memory fails instantiation as a guest error", () => {
    const m = valid().data(65535, [1, 2, 3]).build();
    const failure = expectFailure(() => engine.load(m).instantiate(okHost().handler, TEST_LIMITS), "guest_error");
    expect(failure.message).to.match(/data segment .*out of bounds/);
  });
});
