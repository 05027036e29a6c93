import type { QuickJSContext, QuickJSHandle, QuickJSRuntime, QuickJSWASMModule } from "quickjs-emscripten-core";
import type { QuickJsMemory } from "./quickjs-memory.js";
import type { QuickJsText } from "./quickjs-text.js";
import { discardQuickJsModule, isDiscarded, loadPrivateQuickJsModule, quickJsMemory } from "./quickjs-module.js";

/**
 * Where a guest runs: a QuickJS runtime and context with the zkguest globals, on a module.
 * Its host functions send what the guest does to `target.instance`, the instance running on it
 * now, so that one realm can serve run after run.
 */
export interface Realm<T> {
  readonly module: QuickJSWASMModule;
  readonly memory: QuickJsMemory;
  readonly runtime: QuickJSRuntime;
  readonly context: QuickJSContext;
  readonly target: { instance: T | undefined };
  /** The host functions (and the handles `text` holds): a snapshot's realm keeps them, so that no run can free them. */
  readonly functions: QuickJSHandle[];
  /** Reads the guest's text (errors it throws, lines it prints) within the host's bound. */
  readonly text: QuickJsText;
  /** Host calls and console lines so far: a snapshot is taken only if evaluating the guest made none (they would not happen again). */
  sideEffects: number;
}

/**
 * A guest's realm as it was just after its code was evaluated: a copy of its module's memory up
 * to the allocator's break, less the stack. Restoring it gives a run exactly the state a fresh evaluation would
 * (same code, seed and clock) without compiling the code again, the way Wizer pre-initializes
 * WebAssembly modules: QuickJS compiles about 7 KB per millisecond, a copy moves gigabytes.
 *
 * The module is the snapshot's own (nothing else may live in a memory that is rewritten at
 * each run), and one run at a time uses it. The JavaScript side of quickjs-emscripten keeps its
 * state across a restore because every handle it holds was made before the copy (the context's
 * global, the host functions) and every handle a run makes is disposed before the run ends.
 */
export class QuickJsSnapshot<T> {
  #busy = false;

  private constructor(
    readonly realm: Realm<T>,
    /** The copied parts of the memory, each with its address. */
    private readonly pieces: readonly { readonly at: number; readonly bytes: Uint8Array }[],
    /** The memory's size when the snapshot was taken: a run's memory limit counts from it. */
    readonly baseBytes: number,
  ) {}

  /**
   * Copies the realm's memory up to the allocator's break (`layout.breakAddress`): beyond it
   * lies only memory the allocator has not handed out. Where the break cannot be read, the
   * whole memory. The stack below its top (`layout.deadStack`) is left out: between calls it
   * holds nothing. The snapshot starts in use, by the instance whose evaluation it captures.
   */
  static take<T>(realm: Realm<T>, layout: SnapshotLayout): QuickJsSnapshot<T> {
    const buffer = realm.memory.memory.buffer;
    const { breakAddress, deadStack } = layout;
    const brk = breakAddress === undefined ? 0 : new DataView(buffer).getUint32(breakAddress, true);
    const end = breakAddress !== undefined && brk > breakAddress && brk <= buffer.byteLength ? brk : buffer.byteLength;
    const copy = (from: number, to: number) => ({ at: from, bytes: new Uint8Array(buffer, from, to - from).slice() });
    // The stack is skipped only where the layout is as expected: the break's word below it, the heap above it.
    const skip = deadStack !== undefined && breakAddress !== undefined && breakAddress < deadStack.start && deadStack.end <= end;
    const pieces = skip ? [copy(0, deadStack.start), copy(deadStack.end, end)] : [copy(0, end)];
    const snapshot = new QuickJsSnapshot(realm, pieces, buffer.byteLength);
    snapshot.#busy = true;
    return snapshot;
  }

  /** Whether a run can start on it now: not in use, and its module not retired (after a trap, or a run that hit its memory limit). */
  get usable(): boolean {
    return !this.#busy && !isDiscarded(this.realm.module);
  }

  /** The memory grew past what a run with `memoryBytes` may use (an earlier run had a larger limit): it cannot serve that run. */
  tooGrownFor(memoryBytes: number): boolean {
    return this.realm.memory.bytes > this.baseBytes + memoryBytes;
  }

  /**
   * Puts the copied parts of the memory back as they were taken, and holds the realm until
   * release(). What runs wrote past the break is left as it is: it is memory the allocator has
   * not handed out as of the snapshot, which malloc hands out uninitialized (and calloc clears:
   * this dlmalloc has no mmap) and QuickJS initializes before use, exactly as it treats the
   * memory that earlier runs freed on a shared module. Zeroing it would write far more bytes
   * per restore for nothing.
   */
  acquire(): Realm<T> {
    if (!this.usable) throw new Error("QuickJsSnapshot.acquire: the snapshot is in use or retired");
    const memory = new Uint8Array(this.realm.memory.memory.buffer);
    for (const { at, bytes } of this.pieces) memory.set(bytes, at);
    this.#busy = true;
    return this.realm;
  }

  release(): void {
    this.realm.target.instance = undefined;
    this.#busy = false;
  }

  /** Bytes the snapshot holds: its copies of the memory. */
  get imageBytes(): number {
    return this.pieces.reduce((n, p) => n + p.bytes.length, 0);
  }

  /** Retires the module; the realm is never used again. */
  dispose(): void {
    discardQuickJsModule(this.realm.module);
  }
}

/** What a snapshot needs to know of the module's memory (see findBreakAddress and quickjs-layout.ts). */
export interface SnapshotLayout {
  readonly breakAddress: number | undefined;
  readonly deadStack: { readonly start: number; readonly end: number } | undefined;
}

/** The parts of an Emscripten module used to find the break. */
interface EmscriptenHeap {
  _malloc(bytes: number): number;
  _free(pointer: number): void;
}

/** Where the break may be: in the module's static data, well below its 5 MiB stack and its heap. */
const STATIC_DATA_BYTES = 256 * 1024;
const PROBE_BYTES = [4 * 1024 * 1024, 12 * 1024 * 1024];

/**
 * The address of the allocator's break (the end of what sbrk has handed out) in the static data
 * of `module`'s build, or undefined if it cannot be told. This build exports no sbrk, so it is
 * found by asking malloc for blocks larger than the heap's free space, twice: the one word of
 * static data that, once each block is freed again, stays just past the block's end (within
 * 1 MiB) both times is the break. (The allocator's own pointer to its top moves back on free;
 * locals live in WebAssembly locals, not in linear memory.) Should two words match, neither is
 * trusted. The probe leaves `module`'s heap with free blocks: use a module that serves nothing
 * else.
 */
export function findBreakAddress(module: QuickJSWASMModule, memory: QuickJsMemory): number | undefined {
  const heap = (module as unknown as { module?: Partial<EmscriptenHeap> }).module;
  if (typeof heap?._malloc !== "function" || typeof heap._free !== "function") return undefined;
  const staticWords = () => new Uint32Array(memory.memory.buffer, 0, STATIC_DATA_BYTES / 4).slice();
  let candidates: number[] | undefined;
  for (const bytes of PROBE_BYTES) {
    const before = staticWords();
    let pointer: number;
    try {
      pointer = heap._malloc(bytes);
    } catch {
      return undefined;
    }
    heap._free(pointer);
    // The block came from extending the heap's top: the break moved up to just past its end, and
    // stays there once the block is freed (the allocator's own pointer to its top moves back).
    const after = staticWords();
    const grown = (i: number) => after[i]! > before[i]! && after[i]! >= pointer + bytes && after[i]! <= pointer + bytes + 1024 * 1024;
    candidates = (candidates ?? [...after.keys()]).filter(grown);
  }
  return candidates?.length === 1 ? candidates[0]! * 4 : undefined;
}

let probed: Promise<number | undefined> | undefined;

/** findBreakAddress, once per thread, on a module loaded for the probe alone (the address is the build's, not the module's). */
export function probeBreakAddress(capBytes: number): Promise<number | undefined> {
  probed ??= loadPrivateQuickJsModule(capBytes).then(
    (module) => findBreakAddress(module, quickJsMemory(module)),
    () => undefined,
  );
  return probed;
}
