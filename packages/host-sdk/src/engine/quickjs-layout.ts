import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Reader } from "./wasm-binary.js";

/**
 * Where the QuickJS module keeps what, in Emscripten's layout: static data from address 0, then
 * the stack (growing down from its top), then the heap. Read from the module's own binary: the
 * data segments end where initialized static data ends (zero-initialized data follows), and the
 * stack pointer (global 0) starts at the stack's top, which is the heap's base.
 */
export interface QuickJsLayout {
  readonly dataEnd: number;
  readonly stackTop: number;
}

/** Room left for zero-initialized static data after the data segments: QuickJS and Emscripten's need a few KiB. */
const STATIC_ALLOWANCE = 1024 * 1024;

/**
 * The part of the memory that holds nothing between calls into the module: the stack below its
 * top, which every call writes before it reads, past room for zero-initialized static data.
 * Undefined unless the stack is large enough for that room to leave something (5 MiB here).
 */
export function deadStackOf(layout: QuickJsLayout | undefined): { start: number; end: number } | undefined {
  if (layout === undefined || layout.stackTop - layout.dataEnd < 2 * STATIC_ALLOWANCE) return undefined;
  return { start: layout.dataEnd + STATIC_ALLOWANCE, end: layout.stackTop };
}

/** The layout in a module binary laid out as Emscripten does (one mutable i32 global first, active data segments), or undefined. */
export function readQuickJsLayout(bytes: Uint8Array): QuickJsLayout | undefined {
  try {
    let stackTop: number | undefined;
    let dataEnd = 0;
    const outer = new Reader(bytes, 8, bytes.length);
    while (outer.remaining > 0) {
      const id = outer.byte();
      const size = outer.u32();
      const r = new Reader(bytes, outer.pos, outer.pos + size);
      outer.skip(size);
      if (id === 6) {
        // The first global: mutable i32, `i32.const top; end`.
        if (r.count() < 1 || r.byte() !== 0x7f || r.byte() !== 1 || r.byte() !== 0x41) return undefined;
        stackTop = r.s32();
      } else if (id === 11) {
        for (let n = r.count(); n > 0; n--) {
          const flags = r.u32();
          if (flags === 1) {
            r.skip(r.count()); // passive: not placed in memory by instantiation
            continue;
          }
          if (flags !== 0 || r.byte() !== 0x41) return undefined;
          const offset = r.s32();
          if (r.byte() !== 0x0b) return undefined;
          const length = r.count();
          r.skip(length);
          dataEnd = Math.max(dataEnd, offset + length);
        }
      }
    }
    return stackTop !== undefined && stackTop > dataEnd ? { dataEnd, stackTop } : undefined;
  } catch {
    return undefined;
  }
}

let layout: QuickJsLayout | undefined | null = null;

/** The layout of the QuickJS build the engine loads (@jitl/quickjs-wasmfile-release-sync), read once per thread. */
export function quickJsLayout(): QuickJsLayout | undefined {
  if (layout === null) {
    try {
      const file = createRequire(import.meta.url).resolve("@jitl/quickjs-wasmfile-release-sync/wasm");
      layout = readQuickJsLayout(readFileSync(file));
    } catch {
      layout = undefined;
    }
  }
  return layout;
}
