import { GuestFailure } from "./engine.js";
import type { WasmMemory } from "./wasm-api.js";

/**
 * Bounds-checked access to a guest's linear memory from host functions. Pointers and lengths
 * arrive as signed i32 and are read as unsigned. A range outside the memory traps the guest
 * (SPEC.md §10.1): it throws a GuestFailure, never reads or writes a byte.
 *
 * Reads return copies, so the guest cannot change bytes the host is still looking at.
 */
export class GuestMemory {
  private memory: WasmMemory | undefined;

  /** Binds the instance's exported memory, which exists only once the instance does. */
  bind(memory: WasmMemory): void {
    this.memory = memory;
  }

  /** Current size in bytes. */
  get size(): number {
    return this.memory?.buffer.byteLength ?? 0;
  }

  /** A view of `[ptr, ptr+len)` for immediate use; throws if any byte is outside the memory. */
  private view(ptr: number, len: number, what: string): Uint8Array {
    const start = ptr >>> 0;
    const length = len >>> 0;
    const buffer = this.memory?.buffer;
    if (buffer === undefined) throw new GuestFailure("guest_error", `${what}: the guest's memory is not available yet`);
    if (start + length > buffer.byteLength) {
      throw new GuestFailure(
        "guest_error",
        `${what}: bytes [${start}, ${start + length}) lie outside the guest's memory of ${buffer.byteLength} bytes`,
      );
    }
    return new Uint8Array(buffer, start, length);
  }

  /** Throws unless `[ptr, ptr+len)` is inside the memory. */
  check(ptr: number, len: number, what: string): void {
    this.view(ptr, len, what);
  }

  /** A copy of `[ptr, ptr+len)`. */
  read(ptr: number, len: number, what: string): Uint8Array {
    return this.view(ptr, len, what).slice();
  }

  write(ptr: number, bytes: Uint8Array, what: string): void {
    this.view(ptr, bytes.length, what).set(bytes);
  }

  readU32(ptr: number, what: string): number {
    const v = this.view(ptr, 4, what);
    return new DataView(v.buffer, v.byteOffset, 4).getUint32(0, true);
  }

  writeU32(ptr: number, value: number, what: string): void {
    const v = this.view(ptr, 4, what);
    new DataView(v.buffer, v.byteOffset, 4).setUint32(0, value, true);
  }

  writeU64(ptr: number, value: bigint, what: string): void {
    const v = this.view(ptr, 8, what);
    new DataView(v.buffer, v.byteOffset, 8).setBigUint64(0, value, true);
  }
}
