import { isMainThread, resourceLimits } from "node:worker_threads";
import { newQuickJSWASMModuleFromVariant, newVariant, type QuickJSSyncVariant, type QuickJSWASMModule } from "quickjs-emscripten-core";
import { QuickJsMemory } from "./quickjs-memory.js";

/**
 * The QuickJS WebAssembly module, loaded once per thread (and memory cap) and shared by every
 * runtime on it (each guest instance gets its own runtime: a separate heap, memory limit and
 * interrupt handler). Loading takes a few milliseconds; a runtime takes microseconds. Each
 * module has its own memory, capped (see quickjs-memory.ts).
 */

interface Loaded {
  readonly loading: Promise<QuickJSWASMModule>;
  module?: QuickJSWASMModule;
}

/** The thread's current module for each memory cap. */
const current = new Map<number, Loaded>();
const memories = new WeakMap<QuickJSWASMModule, QuickJsMemory>();
/** Modules retired after a host-level trap or a memory limit: never used again. */
const retired = new WeakSet<QuickJSWASMModule>();

/** The thread's QuickJS module whose memory is capped at `capBytes`, loading it on first use. */
export function loadQuickJsModule(capBytes: number): Promise<QuickJSWASMModule> {
  const known = current.get(capBytes);
  if (known !== undefined) return known.loading;
  const loaded: Loaded = { loading: instantiate(new QuickJsMemory(capBytes)) };
  current.set(capBytes, loaded);
  loaded.loading.then(
    (module) => {
      loaded.module = module;
    },
    () => {
      // A failed load is not kept: the next call tries again.
      if (current.get(capBytes) === loaded) current.delete(capBytes);
    },
  );
  return loaded.loading;
}

/**
 * A module of its own, with its own memory capped at `capBytes`, that no other caller gets: for
 * a guest's snapshot (quickjs-snapshot.ts), which rewrites the whole memory at each run.
 */
export function loadPrivateQuickJsModule(capBytes: number): Promise<QuickJSWASMModule> {
  return instantiate(new QuickJsMemory(capBytes));
}

async function instantiate(memory: QuickJsMemory): Promise<QuickJSWASMModule> {
  // The release build without asyncify: fastest, and guests never need to suspend. Its types
  // are CommonJS-style, so TypeScript puts the default export one level below where Node does.
  const imported = (await import("@jitl/quickjs-wasmfile-release-sync")).default as unknown as QuickJSSyncVariant | { default: QuickJSSyncVariant };
  const variant = "default" in imported ? imported.default : imported;
  const module = await newQuickJSWASMModuleFromVariant(newVariant(variant, { wasmMemory: memory.memory }));
  memory.guardMalloc(module);
  memories.set(module, memory);
  return module;
}

/** The memory of a module loadQuickJsModule gave. */
export function quickJsMemory(module: QuickJSWASMModule): QuickJsMemory {
  const memory = memories.get(module);
  if (memory === undefined) throw new Error("not a module of loadQuickJsModule");
  return memory;
}

/**
 * Retires `module`: the next loadQuickJsModule() instantiates a fresh one. After a host-level
 * trap inside it (a native stack overflow or an abort in the middle of QuickJS code leaves its
 * memory in an unknown state), and after a run that hit its memory limit (the memory never
 * shrinks, and a bomb leaves it grown and fragmented).
 */
export function discardQuickJsModule(module: QuickJSWASMModule): void {
  retired.add(module);
  for (const [cap, loaded] of current) if (loaded.module === module) current.delete(cap);
}

/** Whether `module` was retired (by any engine on this thread). */
export function isDiscarded(module: QuickJSWASMModule): boolean {
  return retired.has(module);
}

/** The most stack QuickJS may use: its own stack in the module is 5 MiB. */
export const MAX_QUICKJS_STACK_BYTES = 4 * 1024 * 1024;

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
  return Math.min(Math.floor(native / 16), MAX_QUICKJS_STACK_BYTES);
}
