import { GuestFailure, type HostCallHandler } from "./engine.js";
import type { FuncType } from "./wasm-binary.js";
import type { GuestMemory } from "./wasm-memory.js";

/** The import module of the protocol functions (SPEC.md §10.1). */
export const ZKGUEST_MODULE = "zkguest";

const PTR_LEN_TO_STATUS: FuncType = { params: ["i32", "i32"], results: ["i32"] };

/** The functions of the `zkguest` module and their signatures. */
export const ZKGUEST_SIGNATURES: Readonly<Record<string, FuncType>> = {
  call: PTR_LEN_TO_STATUS,
  take: PTR_LEN_TO_STATUS,
  reply: PTR_LEN_TO_STATUS,
};

/** The negative results of `call`, `take` and `reply` (SPEC.md §10.1). */
export const Status = {
  NothingPending: -1,
  BufferTooSmall: -2,
  FrameTooLarge: -3,
  InvalidState: -4,
} as const;

/**
 * The host side of the `zkguest` import module for one instance: moves guest request frames to
 * the host handler and back, and collects the guest's reply to the host request it handles.
 * Frames are copied out of guest memory before the host sees them.
 */
export class ProtocolPort {
  private pending: Uint8Array | undefined;
  /** Set while the guest handles a host request: null until it replies. */
  private response: Uint8Array | null | undefined;

  constructor(
    private readonly memory: GuestMemory,
    private readonly host: HostCallHandler,
    private readonly maxFrameBytes: number,
  ) {}

  /** Opens a host request: `reply` is now expected exactly once. */
  beginRequest(): void {
    this.response = null;
  }

  /** Closes the host request and returns the guest's reply, or undefined if it sent none. */
  endRequest(): Uint8Array | undefined {
    const response = this.response ?? undefined;
    this.response = undefined;
    return response;
  }

  /** `call(ptr, len)`: sends a guest request; its response becomes pending. */
  call(ptr: number, len: number): number {
    this.memory.check(ptr, len, "zkguest.call");
    // Outside a host request (during _initialize) the conversation has not started; after
    // `reply` the request is answered, and the guest may send nothing more for it (SPEC.md §2).
    if (this.response !== null) return Status.InvalidState;
    this.pending = undefined;
    if (len >>> 0 > this.maxFrameBytes) return Status.FrameTooLarge;
    const response = this.host(this.memory.read(ptr, len, "zkguest.call"));
    this.pending = response;
    return response.length;
  }

  /** `take(ptr, cap)`: copies the pending response into guest memory and clears it. */
  take(ptr: number, cap: number): number {
    this.memory.check(ptr, cap, "zkguest.take");
    const pending = this.pending;
    if (pending === undefined) return Status.NothingPending;
    if (pending.length > cap >>> 0) return Status.BufferTooSmall;
    this.memory.write(ptr, pending, "zkguest.take");
    this.pending = undefined;
    return pending.length;
  }

  /** `reply(ptr, len)`: the response to the host request being handled. */
  reply(ptr: number, len: number): number {
    this.memory.check(ptr, len, "zkguest.reply");
    if (this.response !== null) return Status.InvalidState;
    if (len >>> 0 > this.maxFrameBytes) {
      throw GuestFailure.limitExceeded(
        "frame_size",
        `the guest's response frame is ${len >>> 0} bytes, max_frame_bytes is ${this.maxFrameBytes}`,
      );
    }
    this.response = this.memory.read(ptr, len, "zkguest.reply");
    return 0;
  }
}
