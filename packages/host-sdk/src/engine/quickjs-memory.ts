import type { QuickJSWASMModule } from "quickjs-emscripten-core";

/**
 * The QuickJS module's WebAssembly memory, owned by the engine so that the engine, not QuickJS,
 * decides how far it grows.
 *
 * Why: this build of QuickJS has no malloc_usable_size, so its memory limit counts each
 * allocation as its few bytes of overhead, not its size. A guest with a 4 MiB limit can fill
 * the module's whole 2 GiB (the module's memory only grows, and every runtime on the thread
 * shares it). QuickJS's interrupt handler does not help either: it runs every few thousand
 * bytecodes, which a loop of large allocations crosses twice a second, hundreds of MiB apart.
 *
 * So the memory is checked where it grows. Emscripten grows it from JavaScript (its
 * emscripten_resize_heap calls `memory.grow`, inside a try: a refused growth makes malloc
 * return NULL, and QuickJS throws "out of memory"); the module's code has no `memory.grow`
 * instruction (decoded: one memory.size, no memory.grow). Two bounds:
 * - the cap: the memory's `maximum`, fixed when it is created; nothing grows past it;
 * - the running guest's ceiling: the size when its instance was created plus its memory
 *   limit, set around each call into the guest (`enter`/`leave`).
 */

/** The part of the WebAssembly JS API used here (the project compiles without DOM types: see wasm-api.ts). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(deltaPages: number): number;
}
const { Memory } = (globalThis as unknown as { WebAssembly: { Memory: new (descriptor: { initial: number; maximum: number }) => WasmMemory } }).WebAssembly;

const PAGE_BYTES = 65536;
const MiB = 1024 * 1024;
/** What the module declares for its imported memory: at least 256 pages (16 MiB), at most 32768 (2 GiB). */
const MODULE_MIN_BYTES = 256 * PAGE_BYTES;
const MODULE_MAX_BYTES = 32768 * PAGE_BYTES;

/**
 * The cap of an engine created without one: four times the default memory limit (64 MiB). Each
 * worker holds one module, so this bounds what a JS guest can cost a worker.
 */
export const DEFAULT_MEMORY_CAP_BYTES = 256 * MiB;

/**
 * What the engine needs beyond the guest's limit: the module's own 16 MiB (static data, the
 * 5 MiB QuickJS stack, the first heap), the runtime and context, the guest's code, Emscripten's
 * growth steps (20% at a time) and the fragments earlier runs leave.
 */
export const ENGINE_HEADROOM_BYTES = 64 * MiB;

/** The cap for an engine that runs guests with memory limits up to `maxMemoryBytes`: that plus the headroom, within what the module allows. */
export function memoryCapFor(maxMemoryBytes: number): number {
  return Math.min(MODULE_MAX_BYTES, maxMemoryBytes + ENGINE_HEADROOM_BYTES);
}

/** Why the memory refused to grow: the running guest's ceiling, or the cap. */
export type Refusal = "limit" | "cap";

/** What `enter` replaced, for `leave` to put back. */
export interface Gate {
  readonly ceiling: number;
  readonly refused: Refusal | undefined;
}

export class QuickJsMemory {
  readonly memory: WasmMemory;
  /** The memory's maximum, in bytes. */
  readonly capBytes: number;
  #ceiling = Infinity;
  #refused: Refusal | undefined;

  constructor(capBytes: number) {
    if (!Number.isSafeInteger(capBytes) || capBytes < MODULE_MIN_BYTES || capBytes > MODULE_MAX_BYTES) {
      throw new RangeError(`QuickJS memory cap: expected ${MODULE_MIN_BYTES} to ${MODULE_MAX_BYTES} bytes, got ${capBytes}`);
    }
    const pages = Math.floor(capBytes / PAGE_BYTES);
    this.capBytes = pages * PAGE_BYTES;
    this.memory = new Memory({ initial: MODULE_MIN_BYTES / PAGE_BYTES, maximum: pages });
    const grow = Memory.prototype.grow;
    this.memory.grow = (delta: number): number => {
      if (this.bytes + delta * PAGE_BYTES > this.#ceiling) {
        this.#refused = "limit";
        throw new RangeError("the running guest's memory limit");
      }
      try {
        const previous = grow.call(this.memory, delta);
        // Emscripten asks for 20% more first, then less: only the last refusal counts.
        this.#refused = undefined;
        return previous;
      } catch (e) {
        this.#refused = "cap";
        throw e;
      }
    };
  }

  /** Bytes of memory now: what the module holds of the host's memory (it never shrinks). */
  get bytes(): number {
    return this.memory.buffer.byteLength;
  }

  /**
   * Set when the memory refused to grow and has not grown since: the allocation that asked for
   * it failed (QuickJS threw "out of memory", which the guest may have caught).
   */
  get refused(): Refusal | undefined {
    return this.#refused;
  }

  /** Bounds growth to `ceiling` bytes until `leave`, with no refusal yet; runs can nest (a host call can run another guest on the module). */
  enter(ceiling: number): Gate {
    const outer = { ceiling: this.#ceiling, refused: this.#refused };
    this.#ceiling = ceiling;
    this.#refused = undefined;
    return outer;
  }

  leave(outer: Gate): void {
    this.#ceiling = outer.ceiling;
    this.#refused = outer.refused;
  }

  /**
   * Makes the module's JavaScript-side malloc throw when it gets NULL. quickjs-emscripten
   * copies strings and buffers into the module (a host call's response, the guest's source)
   * without checking: with the heap full it would write them at address 0, over the module's
   * own data. Only reachable through the module's `module` field (protected in its types).
   */
  guardMalloc(module: QuickJSWASMModule): void {
    const emscripten = (module as unknown as { module?: { _malloc?: (size: number) => number } }).module;
    const malloc = emscripten?._malloc;
    if (emscripten === undefined || typeof malloc !== "function") {
      throw new Error("quickjs-emscripten changed: its module no longer exposes _malloc, which the engine must guard");
    }
    emscripten._malloc = (size: number): number => {
      const pointer = malloc(size);
      if (pointer === 0 && size > 0) {
        // Past the 2 GiB Emscripten allows, no growth was even tried: that is the cap too.
        this.#refused ??= "cap";
        throw new RangeError(`out of memory: the QuickJS heap could not allocate ${size} bytes for the host`);
      }
      return pointer;
    };
  }
}
