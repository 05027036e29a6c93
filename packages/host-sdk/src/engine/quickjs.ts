import { ZkguestError } from "@zkguest/protocol";
import { GUEST_FILE } from "../guest-text.js";
import type { QuickJSContext, QuickJSHandle, QuickJSRuntime, QuickJSWASMModule } from "quickjs-emscripten-core";
import { GuestFailure, type Engine, type EngineLimits, type GuestInstance, type HostCallHandler, type LoadedGuest } from "./engine.js";
import { GUEST_DIGESTS, guestDigest, type GuestDigestName } from "./guest-digest.js";
import { newBufferFunction } from "./quickjs-buffer-function.js";
import { guestFailure, memoryFailure } from "./quickjs-failure.js";
import { DEFAULT_MEMORY_CAP_BYTES, type QuickJsMemory } from "./quickjs-memory.js";
import { discardQuickJsModule, isDiscarded, loadPrivateQuickJsModule, loadQuickJsModule, quickJsMemory, safeQuickJsStackBytes } from "./quickjs-module.js";
import { CODECS_GLOBAL, DEFAULT_CLOCK_START_MS, PRINT_GLOBAL, preludeSource, TEXT_CODECS_SOURCE } from "./quickjs-prelude.js";
import { QuickJsText } from "./quickjs-text.js";
import { deadStackOf, quickJsLayout } from "./quickjs-layout.js";
import { probeBreakAddress, SnapshotFamily, type GuestSnapshot, type Realm, type SnapshotLayout } from "./quickjs-snapshot.js";
import { SeededRandom } from "./seeded-random.js";

/** Options of a QuickJsEngine. */
export interface QuickJsEngineOptions {
  /**
   * The most stack a guest may get, whatever its limits ask: see safeQuickJsStackBytes (the
   * default), which keeps QuickJS inside the thread's native stack. Raise it only for a thread
   * whose native stack is at least 16 times larger.
   */
  readonly maxStackBytes?: number;
  /**
   * The most memory the QuickJS module may hold (default 256 MiB), whatever the guests' limits:
   * its WebAssembly memory's maximum. Size it as the largest memory limit the engine will run
   * plus ENGINE_HEADROOM_BYTES (memoryCapFor does); a guest whose limit is above what the cap
   * leaves it stops at the cap, with limit_exceeded (memory) all the same.
   */
  readonly memoryCapBytes?: number;
  /**
   * Whether guests keep a snapshot (default true): the state just after their code was
   * evaluated, restored at each later run instead of evaluating the code again (see
   * quickjs-snapshot.ts). All of an engine's snapshots share one QuickJS module; each guest's
   * costs the pages its evaluation changed (about 0.2 MB for an 18 KB bundle), held with the
   * guest, so a cache of loaded guests bounds them.
   */
  readonly snapshots?: boolean;
}

/** Per-run options of a JS guest instance, beyond the engine limits. */
export interface QuickJsInstanceOptions {
  /** Seed of the guest's Math.random. The default (empty) seed gives the same numbers on every run. */
  readonly randomSeed?: Uint8Array | string;
  /** Where the guest's clock starts (ms since 1970); default 2024-01-01T00:00:00Z. */
  readonly clockStartMs?: number;
}

/** Console output kept per instance; past it, lines are dropped and counted. */
const MAX_OUTPUT_BYTES = 1024 * 1024;

/**
 * The engine for JavaScript guests (SPEC.md §11): QuickJS compiled to WebAssembly
 * (quickjs-emscripten). The WebAssembly module is loaded once per thread; each instance is a
 * fresh QuickJS runtime and context, so guests share nothing but the module's code.
 *
 * ```ts
 * const engine = await QuickJsEngine.create();
 * const guest = engine.load(bundleBytes);                    // UTF-8 source of one ES module
 * const instance = guest.instantiate(handler, limits);       // evaluates it: defines __zkguest_handle
 * const response = instance.handle(helloFrame);              // one host request, one response
 * instance.dispose();
 * ```
 *
 * Sandbox: the guest sees ECMAScript, the transport and the globals of SPEC.md §11.1
 * (TextEncoder, TextDecoder and console from the prelude, the host's hash functions from
 * guest-digest.ts), nothing else: no require, process, module loading, timers or I/O. Its
 * clock and Math.random are deterministic (see quickjs-prelude.ts). Limits: memory (how far the run may grow the module's memory, which the
 * engine owns and caps, see quickjs-memory.ts: QuickJS's own allocator limit counts allocations,
 * not bytes, in this build), stack (QuickJS's stack limit, capped to what the thread's native
 * stack can hold), time (an interrupt handler with a deadline per call), frame size (both
 * directions); crossing one throws
 * GuestFailure.limitExceeded naming it. The interrupt handler runs between bytecodes: a guest
 * stuck inside one long builtin call (`new Array(1e9).join()`) is only stopped when the
 * builtin returns or fails, so the run driver's hard stop (killing the sandbox process) is
 * what bounds that; nothing here blocks the thread in a way that would prevent it.
 */
export class QuickJsEngine implements Engine {
  readonly kind = "js" as const;
  #module: QuickJSWASMModule | undefined;
  #reloading: Promise<void> | undefined;
  readonly #maxStackBytes: number;
  readonly #memoryCapBytes: number;
  readonly #snapshots: boolean;
  /** The module and realm every guest's snapshot is restored on (loading is asynchronous, instantiation is not). */
  #family: SnapshotFamily<QuickJsInstance> | undefined;
  #familyLoading: Promise<void> | undefined;

  private constructor(module: QuickJSWASMModule, options: QuickJsEngineOptions, memoryCapBytes: number) {
    this.#module = module;
    this.#maxStackBytes = options.maxStackBytes ?? safeQuickJsStackBytes();
    this.#memoryCapBytes = memoryCapBytes;
    this.#snapshots = options.snapshots ?? true;
  }

  /** An engine on this thread's QuickJS module for its memory cap (loaded on first use), with its snapshots' module ready. */
  static async create(options: QuickJsEngineOptions = {}): Promise<QuickJsEngine> {
    const memoryCapBytes = options.memoryCapBytes ?? DEFAULT_MEMORY_CAP_BYTES;
    const engine = new QuickJsEngine(await loadQuickJsModule(memoryCapBytes), options, memoryCapBytes);
    await engine.#loadFamily();
    return engine;
  }

  /**
   * Whether the engine can instantiate guests. It cannot after a host-level trap inside QuickJS
   * (which the stack cap exists to prevent), nor after a run that hit its memory limit (the
   * module's memory never shrinks), until `ready()` has loaded a fresh module.
   */
  get healthy(): boolean {
    if (this.#module && isDiscarded(this.#module)) this.#module = undefined;
    return this.#module !== undefined;
  }

  /**
   * Resolves when the engine is healthy, loading a fresh QuickJS module if the last one was
   * retired, and a fresh module for the snapshots if theirs was.
   */
  async ready(): Promise<void> {
    await this.#loadFamily();
    if (this.healthy) return;
    this.#reloading ??= loadQuickJsModule(this.#memoryCapBytes).then((m) => {
      this.#module = m;
      this.#reloading = undefined;
    });
    await this.#reloading;
  }

  async #loadFamily(): Promise<void> {
    if (!this.#snapshots || (this.#family !== undefined && !isDiscarded(this.#family.realm.module))) return;
    this.#familyLoading ??= (async () => {
      try {
        const layout: SnapshotLayout = { breakAddress: await probeBreakAddress(this.#memoryCapBytes), deadStack: deadStackOf(quickJsLayout()) };
        const module = await loadPrivateQuickJsModule(this.#memoryCapBytes);
        this.#family = QuickJsInstance.newFamily(module, layout, this.#family);
      } catch {
        // Snapshots are an optimization: without their module, guests are evaluated afresh.
      } finally {
        this.#familyLoading = undefined;
      }
    })();
    await this.#familyLoading;
  }

  /** The snapshots' family, if it is loaded and free (one instance at a time runs on it). */
  family(): SnapshotFamily<QuickJsInstance> | undefined {
    const family = this.#family;
    return family?.usable ? family : undefined;
  }

  /** The module to run on (for QuickJsInstance); throws if it was retired and `ready()` has not replaced it yet. */
  module(): QuickJSWASMModule {
    if (!this.healthy || !this.#module) {
      throw new ZkguestError("internal", "the QuickJS module was retired (after a host-level trap, or a run that hit its memory limit); await engine.ready() before the next run");
    }
    return this.#module;
  }

  /** The stack a guest gets for `limits`: its stackBytes, capped (see QuickJsEngineOptions.maxStackBytes). */
  stackBytes(limits: EngineLimits): number {
    return Math.min(limits.stackBytes, this.#maxStackBytes);
  }

  /**
   * Checks that `code` is UTF-8 text; it is parsed when instantiated (a syntax error is then a
   * guest_error with the SyntaxError's message). quickjs-emscripten's compile-only evaluation
   * does not report reliably, and parsing is most of a cold start, so it is not done twice.
   */
  load(code: Uint8Array): QuickJsGuest {
    try {
      return new QuickJsGuest(this, new TextDecoder("utf-8", { fatal: true }).decode(code));
    } catch {
      throw new GuestFailure("guest_error", "guest code is not valid UTF-8");
    }
  }
}


/**
 * A checked JavaScript guest; instantiate it once per run phase. Its first instance with the
 * default seed and clock is evaluated on the engine's snapshot family and keeps the pages it
 * changed; later ones restore them instead of evaluating the code again (quickjs-snapshot.ts).
 * Instances that cannot use it (another is running on the family, another seed or clock, a
 * guest whose evaluation calls the host, prints or grows the memory) are evaluated afresh on
 * the engine's shared module.
 */
export class QuickJsGuest implements LoadedGuest {
  readonly engine = "js" as const;
  #snapshot: GuestSnapshot | undefined;
  /** Evaluating the code failed, or had effects a snapshot would not repeat: it is never snapshotted. */
  #noSnapshot = false;

  constructor(
    private readonly quickjs: QuickJsEngine,
    /** The guest's source: one ES module. */
    readonly source: string,
  ) {}

  instantiate(host: HostCallHandler, limits: EngineLimits, options: QuickJsInstanceOptions = {}): QuickJsInstance {
    const stackBytes = this.quickjs.stackBytes(limits);
    const fresh = () => QuickJsInstance.evaluate(this.quickjs.module(), this.source, host, limits, stackBytes, options);
    const family = this.quickjs.family();
    if (family === undefined || options.randomSeed !== undefined || options.clockStartMs !== undefined) return fresh();
    if (this.#snapshot !== undefined && this.#snapshot.generation !== family.generation) this.#snapshot = undefined;
    if (this.#snapshot !== undefined) return QuickJsInstance.restore(family, this.#snapshot, host, limits, stackBytes);
    if (this.#noSnapshot) return fresh();
    let instance: QuickJsInstance;
    try {
      instance = QuickJsInstance.evaluate(family, this.source, host, limits, stackBytes, options);
    } catch (e) {
      this.#noSnapshot = true;
      throw e;
    }
    this.#snapshot = instance.snapshotIfPristine();
    if (this.#snapshot === undefined) this.#noSnapshot = true;
    return instance;
  }

  /** The source (as UTF-16, as V8 may hold it) and the pages of its snapshot. */
  get retainedBytes(): number {
    return 2 * this.source.length + (this.#snapshot?.bytes ?? 0);
  }

  dispose(): void {
    this.#snapshot = undefined;
  }
}

/** The bytes as an ArrayBuffer of their own (newArrayBuffer copies it into the guest). */
function ownBuffer(bytes: Uint8Array): ArrayBuffer {
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer;
  return whole ? (bytes.buffer as ArrayBuffer) : bytes.slice().buffer;
}

/** Four 32-bit words of PRNG state from a seed (SHA-256 based, like the WebAssembly guests' random_get). */
function prngState(seed: Uint8Array | string): [number, number, number, number] {
  const bytes = new Uint8Array(16);
  new SeededRandom(seed).fill(bytes);
  const words = new DataView(bytes.buffer);
  const state: [number, number, number, number] = [0, 4, 8, 12].map((i) => words.getUint32(i)) as [number, number, number, number];
  // xoshiro128** must not start from all zeros.
  if (state.every((w) => w === 0)) state[0] = 1;
  return state;
}

/**
 * One run phase of a JS guest: a QuickJS runtime and context of its own, either evaluated for
 * it or restored from its guest's snapshot on the engine's snapshot family (the same state
 * either way).
 */
export class QuickJsInstance implements GuestInstance {
  readonly #realm: Realm<QuickJsInstance>;
  /** The snapshot family whose realm this instance runs on: released, not freed, at dispose. */
  #family: SnapshotFamily<QuickJsInstance> | undefined;
  readonly #module: QuickJSWASMModule;
  readonly #memory: QuickJsMemory;
  /** The module's memory when the instance was created: the run's growth is counted from it. */
  readonly #baseline: number;
  /** How far the module's memory may grow while the guest runs: where its memory limit ends. */
  readonly #ceiling: number;
  /** The module's memory when the state this instance started from was made (its evaluation's snapshot, or a fresh realm): see dispose(). */
  #pristine: number;
  readonly #runtime: QuickJSRuntime;
  readonly #context: QuickJSContext;
  readonly #host: HostCallHandler;
  readonly #limits: EngineLimits;
  readonly #stackBytes: number;
  /** When the current call must end (performance.now() ms); checked by the interrupt handler. */
  #deadline = Infinity;
  /** What ended the run while the guest was running (a limit crossed in a host call, the deadline); thrown once the guest has unwound. */
  #ending: Error | undefined;
  #failed = false;
  #disposed = false;
  #output: { level: "info" | "warn"; message: string }[] = [];
  #outputBytes = 0;
  #droppedBytes = 0;

  private constructor(realm: Realm<QuickJsInstance>, host: HostCallHandler, limits: EngineLimits, stackBytes: number, memoryBase: number) {
    this.#realm = realm;
    this.#module = realm.module;
    this.#memory = realm.memory;
    this.#runtime = realm.runtime;
    this.#context = realm.context;
    this.#baseline = this.#memory.bytes;
    this.#ceiling = memoryBase + limits.memoryBytes;
    this.#pristine = memoryBase;
    this.#host = host;
    this.#limits = limits;
    this.#stackBytes = stackBytes;
    realm.target.instance = this;
    // Before the guest's code: the limit is for what the guest allocates, not the engine's
    // built-ins. It counts allocations, not bytes (see quickjs-memory.ts), but still refuses
    // any one allocation over the limit before the heap grows for it.
    this.#runtime.setMemoryLimit(limits.memoryBytes);
    this.#runtime.setMaxStackSize(stackBytes);
  }

  /**
   * An instance that evaluates `source` (after the prelude): in a new runtime and context on a
   * module, or on a snapshot family's realm from its base (for a snapshot to be taken).
   */
  static evaluate(
    on: QuickJSWASMModule | SnapshotFamily<QuickJsInstance>,
    source: string,
    host: HostCallHandler,
    limits: EngineLimits,
    stackBytes: number,
    options: QuickJsInstanceOptions,
  ): QuickJsInstance {
    let instance: QuickJsInstance;
    const family = on instanceof SnapshotFamily ? on : undefined;
    const realm = family !== undefined ? family.acquireBase() : QuickJsInstance.#newRealm(on as QuickJSWASMModule);
    try {
      instance = new QuickJsInstance(realm, host, limits, stackBytes, realm.memory.bytes);
      instance.#family = family;
    } catch (e) {
      if (family !== undefined) family.release();
      else QuickJsInstance.#disposeRealm(realm);
      throw QuickJsInstance.#fromHost(realm.module, e);
    }
    try {
      instance.#run(() => {
        const seed = prngState(options.randomSeed ?? "");
        instance.#evaluate(preludeSource(seed, options.clockStartMs ?? DEFAULT_CLOCK_START_MS), "prelude.js", "global");
        instance.#evaluate(source, GUEST_FILE, "module");
        const handle = instance.#context.getProp(instance.#context.global, "__zkguest_handle");
        const type = instance.#context.typeof(handle);
        handle.dispose();
        if (type !== "function") throw new GuestFailure("guest_error", "the guest did not define the function __zkguest_handle (SPEC.md §11)");
      });
    } catch (e) {
      instance.dispose();
      throw e;
    }
    return instance;
  }

  /** An instance on `family`'s realm, restored to the state just after its guest was evaluated. */
  static restore(family: SnapshotFamily<QuickJsInstance>, snapshot: GuestSnapshot, host: HostCallHandler, limits: EngineLimits, stackBytes: number): QuickJsInstance {
    const realm = family.acquire(snapshot);
    try {
      const instance = new QuickJsInstance(realm, host, limits, stackBytes, realm.memory.bytes);
      instance.#family = family;
      return instance;
    } catch (e) {
      family.release();
      throw QuickJsInstance.#fromHost(realm.module, e);
    }
  }

  /** A snapshot family on `module` (a module of its own): a realm made for it, and its base. */
  static newFamily(module: QuickJSWASMModule, layout: SnapshotLayout, previous?: SnapshotFamily<QuickJsInstance>): SnapshotFamily<QuickJsInstance> | undefined {
    return SnapshotFamily.create(QuickJsInstance.#newRealm(module), layout, previous);
  }

  /** The QuickJS module this instance runs on: the engine's shared one, or its snapshot family's. */
  get module(): QuickJSWASMModule {
    return this.#module;
  }

  /**
   * Right after `evaluate` on a snapshot family: the snapshot of this instance's state (it
   * keeps running on the family); none if evaluating made host calls or printed (a restore
   * would not repeat them), or grew the family's memory.
   */
  snapshotIfPristine(): GuestSnapshot | undefined {
    if (this.#family === undefined || this.#realm.sideEffects > 0 || this.#failed) return undefined;
    return this.#family.take();
  }

  handle(request: Uint8Array): Uint8Array {
    if (this.#failed) throw new ZkguestError("invalid_state", "this guest instance failed and must be disposed");
    return this.#run(() => {
      const ctx = this.#context;
      const fn = ctx.getProp(ctx.global, "__zkguest_handle");
      const frame = ctx.newArrayBuffer(ownBuffer(request));
      const result = ctx.callFunction(fn, ctx.undefined, frame);
      fn.dispose();
      frame.dispose();
      if (result.error) throw this.#guestFailure(result.error);
      const settled = this.#settle(result.value);
      try {
        return this.#readFrame(settled, "the response of __zkguest_handle");
      } finally {
        settled.dispose();
      }
    });
  }

  /**
   * Bytes of memory the guest holds, as the larger of two counts that each miss something: how
   * much the run grew the module's memory (what it cost the host; blind to memory that earlier
   * runs freed and this one reuses, such as the 8 MiB a fresh module starts with), and QuickJS's
   * estimate of the live objects (blind to strings: 196 MB of them count as 0.1 MiB). The
   * estimate walks the heap, O(heap), so sample sparingly; it is skipped on a retired module,
   * whose heap may be inconsistent.
   */
  memoryUsed(): number {
    const grown = this.#grown;
    if (isDiscarded(this.#module)) return grown;
    const usage = this.#runtime.computeMemoryUsage();
    try {
      // One property, not dump(): that would turn all ~30 counters into JSON and back.
      const used = this.#context.getProp(usage, "memory_used_size");
      try {
        return Math.max(grown, this.#context.getNumber(used));
      } finally {
        used.dispose();
      }
    } finally {
      usage.dispose();
    }
  }

  drainOutput(): { level: "info" | "warn"; message: string }[] {
    const lines = this.#output;
    if (this.#droppedBytes) lines.push({ level: "warn", message: `[console output over ${MAX_OUTPUT_BYTES} bytes: ${this.#droppedBytes} bytes dropped]` });
    this.#output = [];
    this.#outputBytes = this.#droppedBytes = 0;
    return lines;
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    // A module whose memory this run grew keeps that memory, free, for the next run to use
    // without growing it: unseen by the next run's limit, whose verdict would then depend on
    // who ran before. So it is retired (a snapshot on it too), and the next run starts on
    // memory of the size every run starts with.
    if (this.#memory.bytes > this.#pristine) discardQuickJsModule(this.#module);
    if (this.#family !== undefined) this.#family.release();
    else QuickJsInstance.#disposeRealm(this.#realm);
  }

  /** A runtime and context on `module` with the zkguest globals, sending what the guest does to `target.instance`. */
  static #newRealm(module: QuickJSWASMModule): Realm<QuickJsInstance> {
    const runtime = module.newRuntime();
    try {
      const context = runtime.newContext();
      // computeMemoryUsage() needs a context; this makes it use ours instead of creating one.
      runtime.context = context;
      // Taken before any guest code runs (the prelude's included): see QuickJsText.
      const text = QuickJsText.take(context);
      const realm: Realm<QuickJsInstance> = { module, memory: quickJsMemory(module), runtime, context, target: { instance: undefined }, functions: [...text.handles], text, sideEffects: 0 };
      // With no instance on the realm, no guest code may run.
      runtime.setInterruptHandler(() => {
        const instance = realm.target.instance;
        return instance === undefined || instance.#shouldInterrupt();
      });
      QuickJsInstance.#defineGlobals(realm);
      // Made now, so that a snapshot holds it: the context caches this handle.
      void context.global;
      return realm;
    } catch (e) {
      runtime.dispose();
      throw QuickJsInstance.#fromHost(module, e);
    }
  }

  static #disposeRealm(realm: Realm<QuickJsInstance>): void {
    if (!realm.runtime.alive) return;
    try {
      for (const f of realm.functions) f.dispose();
      if (realm.context.alive) realm.context.dispose();
      realm.runtime.dispose();
    } catch {
      // QuickJS could not free the runtime cleanly (an abort in its own checks): do not reuse the module.
      discardQuickJsModule(realm.module);
    }
  }

  #shouldInterrupt(): boolean {
    if (!this.#ending && performance.now() > this.#deadline) {
      this.#ending = GuestFailure.limitExceeded("time", `the guest ran longer than its time limit of ${this.#limits.timeMs} ms`);
    }
    return this.#endingReason() !== undefined;
  }

  /**
   * What ends the run, if anything does yet: a reason recorded so far, or the module's memory
   * having refused to grow with no growth since (an allocation failed at the guest's limit or
   * the cap; the guest may have caught QuickJS's "out of memory" and gone on).
   */
  #endingReason(): Error | undefined {
    const refused = this.#memory.refused;
    if (refused !== undefined && this.#ending === undefined) {
      this.#ending = memoryFailure(this.#limits, refused, this.#grown, this.#memory.capBytes);
    }
    return this.#ending;
  }

  /** Bytes the module's memory grew by since the instance was created. */
  get #grown(): number {
    return this.#memory.bytes - this.#baseline;
  }

  /** Ends the run with `e` once the guest has unwound (the first reason wins). */
  #end(e: Error): Error {
    this.#ending ??= e;
    return this.#ending;
  }

  /**
   * Runs guest code under the time and memory limits. Whatever it throws leaves the instance
   * failed; the reason that ended the run (a limit crossed in a host call, the deadline, the
   * memory) wins over the exception the guest unwound with. A run that ends on its memory
   * limit retires the module: its memory stays grown and fragmented, and `engine.ready()`
   * loads a fresh one (in a few milliseconds) before the next run.
   */
  #run<T>(body: () => T): T {
    this.#deadline = performance.now() + this.#limits.timeMs;
    const outer = this.#memory.enter(this.#ceiling);
    try {
      const value = body();
      const ending = this.#endingReason();
      if (ending) throw ending;
      return value;
    } catch (e) {
      this.#failed = true;
      const failure = this.#endingReason() ?? (e instanceof ZkguestError ? e : QuickJsInstance.#fromHost(this.#module, e));
      if (failure instanceof GuestFailure && failure.limit === "memory") discardQuickJsModule(this.#module);
      throw failure;
    } finally {
      this.#memory.leave(outer);
      this.#deadline = Infinity;
    }
  }

  /**
   * A JavaScript exception from quickjs-emscripten itself, not from the guest: V8's stack
   * overflow or a WebAssembly trap in the middle of QuickJS code. The module's memory may be
   * inconsistent now, so the engine stops using it.
   */
  static #fromHost(module: QuickJSWASMModule, e: unknown): GuestFailure {
    discardQuickJsModule(module);
    const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    if (e instanceof RangeError && /call stack/i.test(e.message)) {
      return GuestFailure.limitExceeded("stack", `the guest's calls exhausted the host thread's native stack (${message}); the QuickJS module is reloaded`);
    }
    return new GuestFailure("guest_error", `the QuickJS engine trapped: ${message}; the QuickJS module is reloaded`);
  }

  #guestFailure(error: QuickJSHandle): GuestFailure {
    try {
      return guestFailure(this.#realm.text, error, this.#limits, this.#stackBytes);
    } finally {
      error.dispose();
    }
  }

  #evaluate(code: string, file: string, type: "global" | "module"): void {
    const result = this.#context.evalCode(code, file, { type });
    if (result.error) throw this.#guestFailure(result.error);
    // A module with top-level await evaluates to a promise.
    this.#settle(result.value).dispose();
  }

  /** Runs pending jobs until `value` (if it is a promise) settles; returns the fulfilled value (SPEC.md §11). */
  #settle(value: QuickJSHandle): QuickJSHandle {
    const ctx = this.#context;
    for (;;) {
      const state = ctx.getPromiseState(value);
      if (state.type === "fulfilled") {
        if (state.notAPromise) return value;
        value.dispose();
        return state.value;
      }
      if (state.type === "rejected") {
        value.dispose();
        throw this.#guestFailure(state.error);
      }
      if (!this.#runtime.hasPendingJob()) {
        value.dispose();
        throw new GuestFailure("guest_error", "the guest returned a promise that can never settle (no jobs are left to run, and there are no timers or I/O)");
      }
      const ran = this.#runtime.executePendingJobs();
      if (ran.error) {
        value.dispose();
        throw this.#guestFailure(ran.error);
      }
      const ending = this.#endingReason();
      if (ending) {
        value.dispose();
        throw ending;
      }
    }
  }

  /** Copies an ArrayBuffer frame out of the guest, within the frame size limit. */
  #readFrame(handle: QuickJSHandle, what: string): Uint8Array {
    let bytes: Uint8Array;
    try {
      const view = this.#context.getArrayBuffer(handle);
      bytes = view.value.slice();
      view.dispose();
    } catch {
      throw new GuestFailure("guest_error", `${what} must be an ArrayBuffer holding one frame (SPEC.md §11)`);
    }
    this.#checkFrameSize(bytes, what);
    return bytes;
  }

  #checkFrameSize(bytes: Uint8Array, what: string): void {
    if (bytes.length > this.#limits.maxFrameBytes) {
      throw GuestFailure.limitExceeded("frame_size", `${what} is a frame of ${bytes.length} bytes, the limit is ${this.#limits.maxFrameBytes}`);
    }
  }

  /** __zkguest_call (SPEC.md §11), the hash functions (§11.1), and the prelude's console channel and text codecs' source. */
  static #defineGlobals(realm: Realm<QuickJsInstance>): void {
    const ctx = realm.context;
    const running = (): QuickJsInstance => {
      realm.sideEffects++;
      const instance = realm.target.instance;
      if (instance === undefined) throw new Error("no run is in progress");
      return instance;
    };
    const call = newBufferFunction(ctx, "__zkguest_call", (request) => {
      const self = running();
      const ending = self.#endingReason();
      if (ending) throw new Error(`the run is ending: ${ending.message}`);
      if (request === undefined) throw new TypeError("__zkguest_call takes one ArrayBuffer holding a request frame");
      try {
        // A frame over the limit ends the run, like a limit the host finds.
        self.#checkFrameSize(request, "__zkguest_call's argument");
        return self.#host(request);
      } catch (e) {
        // The host ends the run (a limit crossed); the guest must not catch and go on.
        throw new Error(`the run is ending: ${self.#end(e instanceof Error ? e : new Error(String(e))).message}`);
      }
    });
    const print = ctx.newFunction(PRINT_GLOBAL, (level, text) => {
      const self = running();
      const message = realm.text.string(text);
      if (self.#outputBytes + message.length > MAX_OUTPUT_BYTES) self.#droppedBytes += message.length;
      else {
        self.#outputBytes += message.length;
        self.#output.push({ level: ctx.getNumber(level) === 1 ? "warn" : "info", message });
      }
    });
    // Hashing is pure: unlike a host call, it does not keep a snapshot from being taken.
    const digests = (Object.keys(GUEST_DIGESTS) as GuestDigestName[]).map((name) => {
      const digest = newBufferFunction(
        ctx,
        name,
        (data) => {
          const self = realm.target.instance;
          if (self === undefined) throw new Error("no run is in progress");
          if (data === undefined) throw new TypeError(`${name} takes one ArrayBuffer`);
          return guestDigest(name, data, () => (self.#shouldInterrupt() ? new Error(`the run is ending: ${self.#endingReason()?.message}`) : undefined));
        },
        { borrow: true },
      );
      ctx.setProp(ctx.global, name, digest);
      return digest;
    });
    const codecs = ctx.newFunction(CODECS_GLOBAL, () => ctx.newString(TEXT_CODECS_SOURCE));
    // The handles are kept until the realm goes: a guest that drops its references cannot free
    // a host function that a snapshot still holds.
    realm.functions.push(call, print, codecs, ...digests);
    ctx.setProp(ctx.global, "__zkguest_call", call);
    ctx.setProp(ctx.global, PRINT_GLOBAL, print);
    ctx.setProp(ctx.global, CODECS_GLOBAL, codecs);
  }
}
