import { ZkguestError } from "@zkguest/protocol";
import {
  DEFAULT_ENGINE_LIMITS,
  GuestFailure,
  type Engine,
  type EngineLimits,
  type GuestInstance,
  type HostCallHandler,
  type LoadedGuest,
} from "./engine.js";
import { SeededRandom } from "./seeded-random.js";
import { notImplemented, Wasi, WASI_MODULE } from "./wasi.js";
import { GuestOutput, type OutputLine } from "./wasi-output.js";
import { ProtocolPort, ZKGUEST_MODULE } from "./wasm-abi.js";
import { isStackOverflow, isTrap, isWasmMemory, wasm, type WasmImports, type WasmModule } from "./wasm-api.js";
import { HostBoundary } from "./wasm-boundary.js";
import { GuestMemory } from "./wasm-memory.js";
import { checkGuestModule, memoryMaxPages, PAGE_BYTES, withMemoryMax, type GuestModule } from "./wasm-module.js";

/** Per-run options of a WebAssembly guest instance, beyond the engine limits. */
export interface WasmInstanceOptions {
  /**
   * Seed of the guest's `random_get`. The default (an empty seed) gives the same bytes on
   * every run, which keeps runs reproducible; a host that wants different streams per run
   * passes its own seed.
   */
  readonly randomSeed?: Uint8Array | string;
}

/**
 * The engine for wasm32-wasi guests (SPEC.md §10), on Node's WebAssembly API with the
 * `zkguest` import module and a minimal WASI preview1 of its own (no filesystem).
 *
 * ```ts
 * const guest = new WasmEngine().load(wasmBytes);           // checks and compiles once
 * const instance = guest.instantiate(handler, limits);      // runs _initialize
 * const response = instance.handle(helloFrame);             // one host request, one response
 * const lines = instance.drainOutput();                     // what it printed
 * instance.dispose();
 * ```
 *
 * Limits: memory by capping the module's declared maximum (memory.grow then fails in the
 * guest); stack by V8's own stack limit (set per sandbox process), reported as `stack`; time at
 * every host call and when a call returns. A guest spinning without host calls cannot be
 * stopped from its own thread: the pool's hard stop (killing its sandbox process) does that.
 */
export class WasmEngine implements Engine {
  readonly kind = "wasm" as const;

  /** Checks the module against the ABI and compiles it. Throws GuestFailure if it is refused. */
  load(code: Uint8Array): WasmGuest {
    return new WasmGuest(code);
  }
}

/** Machine code V8 makes per byte of WebAssembly, about (Liftoff's, then TurboFan's for hot functions): what a cache weighs a compiled module by. */
const WASM_CODE_FACTOR = 4;

/** A checked, compiled guest module; instantiate it once per run phase. */
export class WasmGuest implements LoadedGuest {
  readonly engine = "wasm" as const;
  private readonly module: GuestModule;
  /** Compiled modules by memory maximum (pages): the maximum is part of the module's bytes. */
  private readonly compiled = new Map<number, WasmModule>();
  private disposed = false;

  constructor(code: Uint8Array) {
    // A copy: the caller keeps its buffer, and the checked bytes must be the compiled bytes.
    this.module = checkGuestModule(code.slice());
    // Compiling at load reports invalid code now, and readies the common (default) limit.
    this.compile(memoryMaxPages(this.module, Math.max(DEFAULT_ENGINE_LIMITS.memoryBytes, this.module.memory.min * PAGE_BYTES)));
  }

  /**
   * A new instance for one run phase: compiled for `limits.memoryBytes` (once per distinct
   * limit), instantiated, and initialized (`_initialize`, under `limits.timeMs`). Throws
   * GuestFailure if the guest cannot start under these limits or fails while initializing.
   */
  instantiate(host: HostCallHandler, limits: EngineLimits, options: WasmInstanceOptions = {}): GuestInstance {
    if (this.disposed) throw new ZkguestError("invalid_state", "this guest was disposed");
    const maxPages = memoryMaxPages(this.module, limits.memoryBytes);
    return new WasmGuestInstance(this.compile(maxPages), this.module, host, limits, options);
  }

  /**
   * The checked bytes and, for each compiled variant, an estimate of V8's machine code for it
   * (WASM_CODE_FACTOR times the module's bytes: V8 keeps no public count).
   */
  get retainedBytes(): number {
    return this.module.bytes.length * (1 + WASM_CODE_FACTOR * this.compiled.size);
  }

  dispose(): void {
    this.disposed = true;
    this.compiled.clear();
  }

  private compile(maxPages: number): WasmModule {
    let compiled = this.compiled.get(maxPages);
    if (compiled === undefined) {
      try {
        compiled = new wasm.Module(withMemoryMax(this.module, maxPages));
      } catch (e) {
        throw new GuestFailure("guest_error", `invalid guest module: ${messageOf(e)}`);
      }
      this.compiled.set(maxPages, compiled);
    }
    return compiled;
  }
}

type Alloc = (len: number) => number;
type Handle = (ptr: number, len: number) => number;

class WasmGuestInstance implements GuestInstance {
  private readonly boundary = new HostBoundary();
  private readonly memory = new GuestMemory();
  private readonly output = new GuestOutput();
  private readonly port: ProtocolPort;
  private readonly alloc: Alloc;
  private readonly handleRequest: Handle;
  /** The host's memory limit in bytes; a trap with the memory this full is reported as `memory`. */
  private readonly memoryLimitBytes: number;
  private failure: Error | undefined;
  private busy = false;
  private disposed = false;

  constructor(compiled: WasmModule, module: GuestModule, host: HostCallHandler, private readonly limits: EngineLimits, options: WasmInstanceOptions) {
    this.memoryLimitBytes = Math.floor(limits.memoryBytes / PAGE_BYTES) * PAGE_BYTES;
    this.port = new ProtocolPort(this.memory, host, limits.maxFrameBytes);
    const instance = this.run(() => new wasm.Instance(compiled, this.imports(module, options)));
    const { memory, zkguest_alloc, zkguest_handle, _initialize } = instance.exports;
    // checkGuestModule has verified these exports and their signatures.
    if (!isWasmMemory(memory)) throw new GuestFailure("guest_error", "invalid guest module: 'memory' is not a memory");
    this.memory.bind(memory);
    this.alloc = zkguest_alloc as Alloc;
    this.handleRequest = zkguest_handle as Handle;
    if (module.hasInitialize) this.run(_initialize as () => void);
  }

  private imports(module: GuestModule, options: WasmInstanceOptions): WasmImports {
    const b = this.boundary;
    const port = this.port;
    const wasi = new Wasi(this.memory, this.output, new SeededRandom(options.randomSeed ?? "")).functions();
    return {
      [ZKGUEST_MODULE]: {
        call: b.wrap((ptr: number, len: number) => port.call(ptr, len)),
        take: b.wrap((ptr: number, cap: number) => port.take(ptr, cap)),
        reply: b.wrap((ptr: number, len: number) => port.reply(ptr, len)),
      },
      [WASI_MODULE]: Object.fromEntries(module.wasiImports.map((name) => [name, b.wrap((Object.hasOwn(wasi, name) ? wasi[name] : undefined) ?? notImplemented)])),
    };
  }

  handle(request: Uint8Array): Uint8Array {
    this.checkUsable();
    this.busy = true;
    try {
      return this.run(() => {
        const ptr = this.alloc(request.length);
        if (ptr === 0) throw this.outOfMemory(`zkguest_alloc(${request.length}) returned 0`);
        this.memory.write(ptr, request, "zkguest_alloc's buffer");
        this.port.beginRequest();
        const status = this.handleRequest(ptr, request.length);
        const response = this.port.endRequest();
        if (status !== 0) throw new GuestFailure("guest_error", `zkguest_handle returned ${status}; it must return 0`);
        if (response === undefined) throw new GuestFailure("guest_error", "zkguest_handle returned without calling reply");
        return response;
      });
    } finally {
      this.busy = false;
    }
  }

  memoryUsed(): number {
    return this.memory.size;
  }

  drainOutput(): OutputLine[] {
    return this.output.drain();
  }

  dispose(): void {
    this.disposed = true;
  }

  private checkUsable(): void {
    if (this.disposed) throw new ZkguestError("invalid_state", "this guest instance was disposed");
    if (this.failure) throw new ZkguestError("invalid_state", `this guest instance failed (${this.failure.message}) and must be disposed`);
    if (this.busy) throw new ZkguestError("invalid_state", "handle() was called while the guest is handling another request");
  }

  /**
   * Runs guest code under the time limit. Whatever ends it abnormally (a trap, a failure
   * recorded at a host call even if the guest caught it, a limit, the deadline passed by the
   * time it returns) is thrown as the instance's failure, and the instance is unusable.
   */
  private run<T>(enter: () => T): T {
    this.boundary.startClock(this.limits.timeMs);
    try {
      const result = enter();
      this.boundary.checkDeadline();
      if (this.boundary.failure !== undefined) throw this.boundary.failure;
      return result;
    } catch (e) {
      const recorded = this.boundary.failure;
      throw (this.failure = recorded !== undefined ? fromHostFunction(recorded) : this.fromGuest(e));
    }
  }

  /** What the guest's own code threw: a trap, stack exhaustion, or a broken ABI rule. */
  private fromGuest(e: unknown): Error {
    if (e instanceof GuestFailure) return e;
    if (isStackOverflow(e)) return stackExhausted(e);
    if (isTrap(e)) return this.outOfMemory(`the guest trapped: ${e.message}`, e.stack);
    return new GuestFailure("guest_error", `the guest failed: ${messageOf(e)}`, undefined, e instanceof Error ? e.stack : undefined);
  }

  /** A failure while the memory is at the host's limit is the memory limit's doing. */
  private outOfMemory(what: string, stack?: string): GuestFailure {
    if (this.memory.size >= this.memoryLimitBytes) {
      return new GuestFailure("limit_exceeded", `${what} (its memory is full at the limit of ${this.memoryLimitBytes} bytes)`, "memory", stack);
    }
    return new GuestFailure("guest_error", what, undefined, stack);
  }
}

/** The stack limit: V8's stack ran out in the guest, or in a host function it called. */
function stackExhausted(e: RangeError): GuestFailure {
  return new GuestFailure("limit_exceeded", `stack exhausted: ${e.message}`, "stack", e.stack);
}

/**
 * A failure raised in a host function. A GuestFailure gets its own stack as the guest's: it
 * was raised below the guest's frames, which it lists. Stack exhaustion is the guest's (it
 * called the host from deep recursion). Anything else the host handler threw is a host bug
 * and passes through unchanged.
 */
function fromHostFunction(e: unknown): Error {
  if (isStackOverflow(e)) return stackExhausted(e);
  if (e instanceof GuestFailure) {
    if (e.guestStack !== undefined || e.stack === undefined) return e;
    return new GuestFailure(e.code as "guest_error" | "limit_exceeded", e.message, e.limit, e.stack);
  }
  return e instanceof Error ? e : new Error(`a host function threw ${String(e)}`);
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
