import type { QuickJSContext, QuickJSHandle } from "quickjs-emscripten-core";

/**
 * A guest function of one ArrayBuffer that answers with one (the transport's `__zkguest_call`),
 * run straight from the QuickJS module's callback.
 *
 * Why: quickjs-emscripten's `newFunction` wraps every call in a scope, a generator and a
 * handle object per argument and for `this`, and reading an ArrayBuffer argument or returning
 * one goes through more handles; measured on the bench machine, that is about 6.5 us of an
 * 8 us call, when the copies themselves take well under one. A guest's host calls are its
 * logs, disk requests and witnesses, so this is most of what a call costs. This path copies
 * the argument out of the module, runs `impl`, and copies its answer in as a new ArrayBuffer,
 * with nothing else per call.
 *
 * It uses quickjs-emscripten's protected and private members (the FFI, the context pointer,
 * the Emscripten module, the per-context callback table): checked when the function is made,
 * so that a version that changed them fails here, loudly, as guardMalloc does, and never
 * at a guest's call. The function itself is made with `newFunction` (names, lifetime and
 * freeing stay quickjs-emscripten's); only its calls take this path.
 */

/** What quickjs-emscripten keeps per context, as far as this file uses it. */
interface Internals {
  readonly ffi: {
    QTS_ArgvGetJSValueConstPointer(argv: number, index: number): number;
    QTS_GetArrayBuffer(ctx: number, value: number): number;
    QTS_GetArrayBufferLength(ctx: number, value: number): number;
    QTS_NewArrayBuffer(ctx: number, buffer: number, length: number): number;
    QTS_Throw(ctx: number, error: number): number;
  };
  readonly ctx: { readonly value: number };
  readonly module: { readonly HEAPU8: Uint8Array; _malloc(size: number): number; _free(pointer: number): void };
  readonly cToHostCallbacks: { callFunction: CallFunction };
  getFunction(id: number): unknown;
}

type CallFunction = (ctx: number, thisPointer: number, argc: number, argv: number, functionId: number) => number;

/** `impl` gets the argument's bytes (a copy), or undefined when it is not an ArrayBuffer; what it throws is thrown in the guest. */
export type BufferFunction = (argument: Uint8Array | undefined) => Uint8Array;

/**
 * With `borrow`, `impl` gets a view of the argument's copy inside the module's heap instead of a
 * copy of its own, valid until it returns: for a function that only reads it (a hash), which
 * then costs the host no memory for a large argument. Such an `impl` must not call into QuickJS.
 */
export interface BufferFunctionOptions {
  readonly borrow?: boolean;
}

interface FastPath {
  readonly impl: BufferFunction;
  readonly borrow: boolean;
}

/** The buffer functions of each context, by the function quickjs-emscripten holds for them. */
const fastPaths = new WeakMap<QuickJSContext, Map<unknown, FastPath>>();

export function newBufferFunction(context: QuickJSContext, name: string, impl: BufferFunction, options: BufferFunctionOptions = {}): QuickJSHandle {
  const internals = internalsOf(context);
  let functions = fastPaths.get(context);
  if (functions === undefined) {
    functions = new Map();
    fastPaths.set(context, functions);
    const callbacks = internals.cToHostCallbacks;
    const general = callbacks.callFunction;
    const table = functions;
    callbacks.callFunction = (ctx, thisPointer, argc, argv, functionId) => {
      const fast = table.get(internals.getFunction(functionId));
      return fast === undefined ? general(ctx, thisPointer, argc, argv, functionId) : callBuffer(context, internals, fast, argc, argv);
    };
  }
  // The function quickjs-emscripten registers (and frees with the handle); its calls never reach it.
  const registered = (): never => {
    throw new Error(`${name} was called outside its fast path`);
  };
  functions.set(registered, { impl, borrow: options.borrow ?? false });
  return context.newFunction(name, registered);
}

/** One call: never throws (the module's callback must not); a failure is thrown in the guest. */
function callBuffer(context: QuickJSContext, internals: Internals, { impl, borrow }: FastPath, argc: number, argv: number): number {
  const { ffi, module } = internals;
  const ctx = internals.ctx.value;
  let borrowed = 0;
  try {
    let argument: Uint8Array | undefined;
    if (argc > 0) {
      const value = ffi.QTS_ArgvGetJSValueConstPointer(argv, 0);
      // A copy of the bytes in the module's heap, or 0 when the value is not an ArrayBuffer.
      const copy = ffi.QTS_GetArrayBuffer(ctx, value);
      if (copy !== 0) {
        const length = ffi.QTS_GetArrayBufferLength(ctx, value);
        if (borrow) {
          argument = module.HEAPU8.subarray(copy, copy + length);
          borrowed = copy;
        } else {
          argument = module.HEAPU8.slice(copy, copy + length);
          module._free(copy);
        }
      }
    }
    let answer: Uint8Array;
    try {
      answer = impl(argument);
    } finally {
      if (borrowed !== 0) module._free(borrowed);
    }
    // The module's guarded malloc throws when the heap is full; the new ArrayBuffer owns the copy.
    const pointer = module._malloc(answer.length);
    module.HEAPU8.set(answer, pointer);
    return ffi.QTS_NewArrayBuffer(ctx, pointer, answer.length);
  } catch (e) {
    const error = context.newError(e instanceof Error ? { name: e.name, message: e.message } : { name: "Error", message: String(e) });
    try {
      return ffi.QTS_Throw(ctx, error.value);
    } finally {
      error.dispose();
    }
  }
}

function internalsOf(context: QuickJSContext): Internals {
  const c = context as unknown as Partial<Internals>;
  const ffi = c.ffi as Partial<Internals["ffi"]> | undefined;
  const usable =
    typeof ffi?.QTS_ArgvGetJSValueConstPointer === "function" &&
    typeof ffi.QTS_GetArrayBuffer === "function" &&
    typeof ffi.QTS_GetArrayBufferLength === "function" &&
    typeof ffi.QTS_NewArrayBuffer === "function" &&
    typeof ffi.QTS_Throw === "function" &&
    typeof c.ctx?.value === "number" &&
    c.module?.HEAPU8 instanceof Uint8Array &&
    typeof c.module._malloc === "function" &&
    typeof c.module._free === "function" &&
    typeof c.cToHostCallbacks?.callFunction === "function" &&
    typeof c.getFunction === "function";
  if (!usable) throw new Error("quickjs-emscripten changed: the context no longer has the members the engine's host calls use (quickjs-buffer-function.ts)");
  return c as Internals;
}
