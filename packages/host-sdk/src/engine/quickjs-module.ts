import { isMainThread, resourceLimits } from "node:worker_threads";
import { newQuickJSWASMModuleFromVariant, type QuickJSWASMModule } from "quickjs-emscripten-core";

/**
 * The QuickJS WebAssembly module, loaded once per thread and shared by every runtime on it
 * (each guest instance gets its own runtime: a separate heap, memory limit and interrupt
 * handler). Loading takes tens of milliseconds; a runtime takes microseconds.
 */

let loading: Promise<QuickJSWASMModule> | undefined;
let loaded: QuickJSWASMModule | undefined;
/** Modules a host-level trap has left in an unknown state: never used again. */
const broken = new WeakSet<QuickJSWASMModule>();

/** The thread's QuickJS module, loading it on first use. */
export function loadQuickJsModule(): Promise<QuickJSWASMModule> {
  // The release build without asyncify: fastest, and guests never need to suspend.
  loading ??= newQuickJSWASMModuleFromVariant(import("@jitl/quickjs-wasmfile-release-sync")).then((module) => (loaded = module));
  return loading;
}

/**
 * Forgets `module` after a host-level trap inside it (a native stack overflow or an abort in
 * the middle of QuickJS code leaves its memory in an unknown state): the next
 * loadQuickJsModule() instantiates a fresh one.
 */
export function discardQuickJsModule(module: QuickJSWASMModule): void {
  broken.add(module);
  if (loaded === module) loading = loaded = undefined;
}

/** Whether `module` was discarded (by any engine on this thread). */
export function isDiscarded(module: QuickJSWASMModule): boolean {
  return broken.has(module);
}

/** V8's default native stack on the main thread (its --stack-size, in KiB) and a Worker's (resourceLimits.stackSizeMb). */
const MAIN_THREAD_STACK_KIB = 984;
const WORKER_STACK_MIB = 4;

/**
 * QuickJS counts its stack in the WebAssembly module's own stack (5 MiB), but every nested
 * C call is also a WebAssembly frame on the thread's native stack, and V8's baseline compiler
 * makes those frames large. Measured here, JSON.stringify of nested arrays (the deepest C
 * recursion found) takes about 13 bytes of native stack per byte of QuickJS stack; if the
 * native stack runs out first, V8 throws in the middle of QuickJS code and the module's memory
 * is left inconsistent. So QuickJS's limit is kept to 1/16 of the thread's native stack:
 * about 60 KiB on the main thread, 256 KiB in a default Worker, 1 MiB with stackSizeMb: 16.
 */
export function safeQuickJsStackBytes(): number {
  const flag = process.execArgv.find((a) => a.startsWith("--stack-size="));
  const native = isMainThread
    ? Number(flag?.slice("--stack-size=".length) ?? MAIN_THREAD_STACK_KIB) * 1024
    : (resourceLimits.stackSizeMb ?? WORKER_STACK_MIB) * 1024 * 1024;
  return Math.min(Math.floor(native / 16), 4 * 1024 * 1024);
}
