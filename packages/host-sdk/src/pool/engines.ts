import type { Engine, EngineKind } from "../engine/engine.js";

/** An engine as a worker holds it; `ready()`, when an engine has it, is awaited before each phase. */
export interface WorkerEngine extends Engine {
  ready?(): Promise<void>;
}

/**
 * The engines by the artifact manifest's `engine`, each created once per worker on first use
 * and reused by every later phase (the QuickJS WebAssembly module, for instance, is compiled
 * once per thread). Imported lazily: a worker that runs only wasm guests never loads QuickJS.
 */
const factories: Record<EngineKind, (memoryBytes: number) => Promise<WorkerEngine>> = {
  wasm: async () => new (await import("../engine/wasm.js")).WasmEngine(),
  js: async (memoryBytes) => {
    const { QuickJsEngine } = await import("../engine/quickjs.js");
    const { memoryCapFor } = await import("../engine/quickjs-memory.js");
    return QuickJsEngine.create({ memoryCapBytes: memoryCapFor(memoryBytes) });
  },
};

const engines = new Map<EngineKind, Promise<WorkerEngine>>();

/** The worker's engine for `kind`, sized for guest memory limits up to `memoryBytes` (the same on every call from one worker). */
export async function engineFor(kind: EngineKind, memoryBytes: number): Promise<WorkerEngine> {
  let engine = engines.get(kind);
  if (engine === undefined) {
    engine = factories[kind](memoryBytes);
    engines.set(kind, engine);
    // A failed start is not cached: the next phase tries again.
    engine.catch(() => engines.delete(kind));
  }
  const ready = await engine;
  await ready.ready?.();
  return ready;
}
