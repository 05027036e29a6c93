import { expect } from "chai";
import type { QuickJSContext, QuickJSWASMModule } from "quickjs-emscripten-core";
import { newBufferFunction } from "../src/engine/quickjs-buffer-function.js";
import { DEFAULT_MEMORY_CAP_BYTES } from "../src/engine/quickjs-memory.js";
import { loadPrivateQuickJsModule } from "../src/engine/quickjs-module.js";

/** The transport's host function on its direct path (quickjs-buffer-function.ts), in a bare context. */
describe("QuickJS buffer functions: __zkguest_call's direct path", () => {
  let module: QuickJSWASMModule;
  before(async () => {
    module = await loadPrivateQuickJsModule(DEFAULT_MEMORY_CAP_BYTES);
  });

  const withContext = <T>(f: (ctx: QuickJSContext) => T): T => {
    const runtime = module.newRuntime();
    const ctx = runtime.newContext();
    try {
      return f(ctx);
    } finally {
      ctx.dispose();
      runtime.dispose();
    }
  };
  const evaluate = (ctx: QuickJSContext, code: string): unknown => {
    const result = ctx.evalCode(code);
    if (result.error) {
      const error = ctx.dump(result.error);
      result.error.dispose();
      return { threw: error };
    }
    const value = ctx.dump(result.value);
    result.value.dispose();
    return value;
  };

  it("copies the argument's bytes out and the answer's in, as a new ArrayBuffer each call", () => {
    withContext((ctx) => {
      const seen: number[][] = [];
      const fn = newBufferFunction(ctx, "echo", (bytes) => {
        seen.push([...bytes!]);
        return Uint8Array.from(bytes!, (b) => b + 1);
      });
      ctx.setProp(ctx.global, "echo", fn);
      fn.dispose();
      const out = evaluate(ctx, "const a = echo(new Uint8Array([1, 2, 3]).buffer); const b = echo(new ArrayBuffer(0)); [Array.from(new Uint8Array(a)), b.byteLength, a === b]");
      expect(out).to.deep.equal([[2, 3, 4], 0, false]);
      expect(seen).to.deep.equal([[1, 2, 3], []]);
    });
  });

  it("gives undefined for anything but an ArrayBuffer, and throws what the function throws in the guest", () => {
    withContext((ctx) => {
      const got: string[] = [];
      const fn = newBufferFunction(ctx, "f", (bytes) => {
        got.push(bytes === undefined ? "undefined" : `${bytes.length} bytes`);
        if (bytes === undefined) throw new TypeError("f takes an ArrayBuffer");
        throw new Error("refused");
      });
      ctx.setProp(ctx.global, "f", fn);
      fn.dispose();
      const out = evaluate(
        ctx,
        `const r = [];
         for (const bad of [42, "text", new Uint8Array(3), undefined, new ArrayBuffer(2)]) { try { f(bad); r.push("returned"); } catch (e) { r.push(e.name + ": " + e.message); } }
         try { f(); } catch (e) { r.push(e.name); }
         r`,
      );
      expect(out).to.deep.equal(["TypeError: f takes an ArrayBuffer", "TypeError: f takes an ArrayBuffer", "TypeError: f takes an ArrayBuffer", "TypeError: f takes an ArrayBuffer", "Error: refused", "TypeError"]);
      expect(got).to.deep.equal(["undefined", "undefined", "undefined", "undefined", "2 bytes", "undefined"]);
    });
  });

  it("leaves the context's other host functions on quickjs-emscripten's own path", () => {
    withContext((ctx) => {
      const fast = newBufferFunction(ctx, "fast", () => new Uint8Array([7]));
      const plain = ctx.newFunction("plain", (x) => ctx.newNumber(ctx.getNumber(x) * 2));
      ctx.setProp(ctx.global, "fast", fast);
      ctx.setProp(ctx.global, "plain", plain);
      fast.dispose();
      plain.dispose();
      expect(evaluate(ctx, "[plain(21), new Uint8Array(fast(new ArrayBuffer(1)))[0]]")).to.deep.equal([42, 7]);
    });
  });

  it("refuses, when it is made, a quickjs-emscripten whose internals it relies on have changed", () => {
    expect(() => newBufferFunction({} as QuickJSContext, "f", () => new Uint8Array())).to.throw(/quickjs-emscripten changed/);
  });
});
