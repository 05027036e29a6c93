import type { QuickJSContext, QuickJSHandle, QuickJSRuntime, QuickJSWASMModule } from "quickjs-emscripten-core";
import type { QuickJsMemory } from "./quickjs-memory.js";
import type { QuickJsText } from "./quickjs-text.js";
import { isDiscarded, loadPrivateQuickJsModule, quickJsMemory } from "./quickjs-module.js";

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

/** Parts of a module's memory, each with its address. */
type Pieces = readonly { readonly at: number; readonly bytes: Uint8Array }[];

/** The granularity of a guest's snapshot: the pages of the memory where it differs from the family's base. */
const PAGE = 4096;

/**
 * A guest's realm as it was just after its code was evaluated, as the pages of the memory (up to
 * the allocator's break) that differ from its family's base. Restoring it gives a run exactly
 * the state a fresh evaluation would (same code, seed and clock) without compiling the code
 * again, the way Wizer pre-initializes WebAssembly modules: QuickJS compiles about 7 KB per
 * millisecond, a copy moves gigabytes. Only bytes: any module of its family can take it.
 */
export interface GuestSnapshot {
  /** The family base it is a difference from (SnapshotFamily.generation). */
  readonly generation: number;
  readonly pages: Pieces;
  /** The break when it was taken: what the guest's heap held. */
  readonly end: number;
  /** Bytes it holds. */
  readonly bytes: number;
}

/**
 * One QuickJS module with one realm, shared by the snapshots of every JS program in a sandbox,
 * and the base they differ from: a copy of the module's memory just after the realm was made,
 * up to the allocator's break, less the stack (which holds nothing between calls). A guest's
 * first instance starts from the base, evaluates the guest and keeps the pages that changed
 * (about 0.2 MB for an 18 KB bundle, against 1.4 MB for the whole copy and a module of 16 MiB
 * for each program before); each later instance writes the base and then its pages back.
 *
 * Why one realm serves every program: the JavaScript side of quickjs-emscripten keeps its state
 * across a restore because every handle it holds was made with the realm, before the base was
 * taken (the context's global, the host functions), and every handle a run makes is disposed
 * before the run ends. The module serves one instance at a time.
 *
 * A module retired (after a trap, a memory limit, or a run that grew its memory) takes the
 * realm with it; the next family is made the same way on a fresh module, and where its realm
 * landed at the same addresses (the build is deterministic), it takes the last base and keeps
 * the generation: the guests' snapshots still apply, and none is evaluated again.
 */
export class SnapshotFamily<T> {
  #busy = false;

  private constructor(
    readonly realm: Realm<T>,
    private readonly base: Pieces,
    /** Where the base's heap ends (its break), and the memory's size then: snapshots stay within it. */
    private readonly baseEnd: number,
    readonly memoryBytes: number,
    private readonly layout: { readonly breakAddress: number; readonly deadStack: { readonly start: number; readonly end: number } },
    readonly generation: number,
  ) {}

  /** The family of a realm just made (nothing evaluated in it yet); undefined where the layout is not known. */
  static create<T>(realm: Realm<T>, layout: SnapshotLayout, previous?: SnapshotFamily<T>): SnapshotFamily<T> | undefined {
    const { breakAddress, deadStack } = layout;
    if (breakAddress === undefined || deadStack === undefined) return undefined;
    const end = breakOf(realm, breakAddress);
    if (end === undefined || deadStack.end > end) return undefined;
    const buffer = realm.memory.memory.buffer;
    if (previous !== undefined && previous.baseEnd === end && sameAddresses(previous.realm, realm)) {
      // The same build made the same allocations: the realm's runtime and context are where the
      // last family's were, and the memory differs only in the context's own Math.random seed,
      // which QuickJS takes from the clock (3 bytes; the prelude replaces Math.random anyway).
      // The last base is written at the first acquire: the guests' snapshots still apply.
      return new SnapshotFamily(realm, previous.base, end, buffer.byteLength, { breakAddress, deadStack }, previous.generation);
    }
    const copy = (from: number, to: number) => ({ at: from, bytes: new Uint8Array(buffer, from, to - from).slice() });
    const base = [copy(0, deadStack.start), copy(deadStack.end, end)];
    return new SnapshotFamily(realm, base, end, buffer.byteLength, { breakAddress, deadStack }, previous === undefined ? 0 : previous.generation + 1);
  }

  /** Whether a run can start on it now: not in use, and its module not retired. */
  get usable(): boolean {
    return !this.#busy && !isDiscarded(this.realm.module);
  }

  /** Holds the realm, as the base left it, for a guest's first evaluation. */
  acquireBase(): Realm<T> {
    this.#write(this.base);
    this.realm.sideEffects = 0;
    this.#busy = true;
    return this.realm;
  }

  /** Holds the realm, restored to `snapshot`'s state. */
  acquire(snapshot: GuestSnapshot): Realm<T> {
    if (snapshot.generation !== this.generation) throw new Error("SnapshotFamily.acquire: a snapshot of another base");
    this.#write(this.base);
    this.#write(snapshot.pages);
    this.#busy = true;
    return this.realm;
  }

  release(): void {
    this.realm.target.instance = undefined;
    this.#busy = false;
  }

  /**
   * The realm's state now as a snapshot, or undefined if the memory grew (the family's memory
   * stays the size every run starts with) or the break cannot be read.
   */
  take(): GuestSnapshot | undefined {
    const buffer = this.realm.memory.memory.buffer;
    const end = breakOf(this.realm, this.layout.breakAddress);
    if (end === undefined || buffer.byteLength !== this.memoryBytes) return undefined;
    const memory = new Uint8Array(buffer);
    // Runs of changed pages, [from, to), each kept as one piece.
    const runs: [number, number][] = [];
    const { start: stackStart, end: stackEnd } = this.layout.deadStack;
    for (const [from, to] of [[0, stackStart], [stackEnd, end]] as const) {
      for (let at = from; at < to; at += PAGE) {
        const pageEnd = Math.min(at + PAGE, to);
        const before = this.#baseAt(at, pageEnd);
        if (before !== undefined && Buffer.compare(memory.subarray(at, pageEnd), before) === 0) continue;
        const last = runs[runs.length - 1];
        if (last !== undefined && last[1] === at) last[1] = pageEnd;
        else runs.push([at, pageEnd]);
      }
    }
    const pages = runs.map(([from, to]) => ({ at: from, bytes: memory.slice(from, to) }));
    return { generation: this.generation, pages, end, bytes: pages.reduce((n, p) => n + p.bytes.length, 0) };
  }

  /** The base's bytes at [from, to), if the base covers them whole. */
  #baseAt(from: number, to: number): Uint8Array | undefined {
    for (const piece of this.base) {
      if (from >= piece.at && to <= piece.at + piece.bytes.length) return piece.bytes.subarray(from - piece.at, to - piece.at);
    }
    return undefined;
  }

  #write(pieces: Pieces): void {
    const memory = new Uint8Array(this.realm.memory.memory.buffer);
    for (const { at, bytes } of pieces) memory.set(bytes, at);
  }
}

/** Whether two realms' runtime and context have the same addresses in their modules' memories. */
function sameAddresses(a: Realm<unknown>, b: Realm<unknown>): boolean {
  // The pointers are protected members of quickjs-emscripten's classes: read, never changed.
  const address = (realm: Realm<unknown>) => {
    const { runtime, context } = realm as unknown as { runtime: { rt: { value: number } }; context: { ctx: { value: number } } };
    return [runtime.rt.value, context.ctx.value];
  };
  const [x, y] = [address(a), address(b)];
  return x[0] === y[0] && x[1] === y[1];
}

function breakOf(realm: Realm<unknown>, breakAddress: number): number | undefined {
  const buffer = realm.memory.memory.buffer;
  const brk = new DataView(buffer).getUint32(breakAddress, true);
  return brk > breakAddress && brk <= buffer.byteLength ? brk : undefined;
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
