/**
 * The part of the global WebAssembly JS API the wasm engine uses, typed here because the
 * project compiles against lib ES2022 without DOM types, and @types/node 20 declares none.
 * Keeping the surface this small also documents exactly what the engine relies on.
 */

/** A compiled module (opaque to the engine). */
export type WasmModule = object;

export interface WasmMemory {
  /** The current buffer. Detached and replaced when the memory grows: never keep it. */
  readonly buffer: ArrayBuffer;
}

export interface WasmInstance {
  readonly exports: Readonly<Record<string, unknown>>;
}

/** An import object: module name → field name → value. */
export type WasmImports = Record<string, Record<string, unknown>>;

interface WasmApi {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: WasmImports) => WasmInstance;
  Memory: abstract new (...args: never[]) => WasmMemory;
  CompileError: ErrorConstructor;
  LinkError: ErrorConstructor;
  RuntimeError: ErrorConstructor;
}

export const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

export function isWasmMemory(u: unknown): u is WasmMemory {
  return u instanceof wasm.Memory;
}

/** A WebAssembly trap (unreachable, out-of-bounds access, division by zero, ...). */
export function isTrap(e: unknown): e is Error {
  return e instanceof wasm.RuntimeError;
}

/**
 * V8 reports wasm (and JS) stack exhaustion as a RangeError with this message; other
 * RangeErrors (an invalid typed array length, say) are not stack overflows. A plain string
 * search: a regular expression is compiled lazily, which itself needs stack.
 */
export function isStackOverflow(e: unknown): e is RangeError {
  return e instanceof RangeError && e.message.includes("Maximum call stack size exceeded");
}
