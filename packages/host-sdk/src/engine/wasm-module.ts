import { GuestFailure } from "./engine.js";
import { WASI_MODULE, WASI_SIGNATURES } from "./wasi.js";
import { ZKGUEST_MODULE, ZKGUEST_SIGNATURES } from "./wasm-abi.js";
import {
  formatType,
  readModule,
  sameType,
  WasmBinaryError,
  withMemoryLimits,
  type FuncType,
  type Limits,
  type ModuleStructure,
  type SectionSpan,
} from "./wasm-binary.js";

/** Bytes in a WebAssembly page. */
export const PAGE_BYTES = 65536;

/** Pages in the largest 32-bit memory (4 GiB). */
export const MAX_PAGES = 65536;

/** The most elements a guest's tables may declare, all tables together (SPEC.md §10.2). */
export const MAX_TABLE_ELEMENTS = 65536;

/** The exports a guest must have (SPEC.md §10.2). */
const REQUIRED_EXPORTS: Readonly<Record<string, FuncType>> = {
  zkguest_alloc: { params: ["i32"], results: ["i32"] },
  zkguest_handle: { params: ["i32", "i32"], results: ["i32"] },
};
const INITIALIZE: FuncType = { params: [], results: [] };

/** Parameter types a JS function can receive; an unimplemented WASI import may only use these. */
const SCALARS = new Set(["i32", "i64", "f32", "f64"]);

/** A module that follows the ABI: what the engine needs to compile and instantiate it. */
export interface GuestModule {
  readonly bytes: Uint8Array;
  readonly memory: Limits;
  readonly memorySection: SectionSpan;
  /** Names the module imports from WASI: each gets an implementation or ENOSYS. */
  readonly wasiImports: readonly string[];
  readonly hasInitialize: boolean;
}

function refuse(reason: string): never {
  throw new GuestFailure("guest_error", `invalid guest module: ${reason}`);
}

/**
 * Checks a module's bytes against the WebAssembly ABI before V8 sees them: well-formed
 * structure, only imports the host provides (with their exact signatures), one memory of its
 * own, bounded tables, no start function, the required exports. Throws a GuestFailure
 * (`guest_error`) naming the first problem.
 */
export function checkGuestModule(bytes: Uint8Array): GuestModule {
  let structure: ModuleStructure;
  try {
    structure = readModule(bytes);
  } catch (e) {
    if (e instanceof WasmBinaryError) refuse(e.message);
    throw e;
  }
  const wasiImports = checkImports(structure);
  if (structure.hasStart) refuse("it has a start function; a guest is a WASI reactor and initializes in _initialize");

  const [memory, ...others] = structure.memories;
  if (memory === undefined || structure.memorySection === undefined) refuse("it defines no memory");
  if (others.length > 0) refuse(`it defines ${structure.memories.length} memories; a guest has exactly one`);

  let tableElements = 0;
  for (const table of structure.tables) {
    if (table.max === undefined) refuse("a table declares no maximum size");
    tableElements += table.max;
  }
  if (tableElements > MAX_TABLE_ELEMENTS) {
    refuse(`its tables may hold ${tableElements} elements; the limit is ${MAX_TABLE_ELEMENTS}`);
  }

  if (structure.exports.find((e) => e.name === "memory")?.kind !== "memory") refuse("it does not export its memory as 'memory'");
  for (const [name, type] of Object.entries(REQUIRED_EXPORTS)) checkExportedFunction(structure, name, type, true);
  const hasInitialize = checkExportedFunction(structure, "_initialize", INITIALIZE, false);

  return { bytes, memory, memorySection: structure.memorySection, wasiImports, hasInitialize };
}

function checkImports(structure: ModuleStructure): string[] {
  const wasiImports: string[] = [];
  for (const { module, name, kind, type } of structure.imports) {
    const what = `${module}.${name}`;
    if (kind === "memory") refuse(`it imports memory (${what}); a guest defines and exports its own`);
    // Own keys only: an import named "constructor" must not find Object.prototype's.
    const signatures = module === ZKGUEST_MODULE ? ZKGUEST_SIGNATURES : module === WASI_MODULE ? WASI_SIGNATURES : {};
    const expected = Object.hasOwn(signatures, name) ? signatures[name] : undefined;
    if (kind !== "func" || type === undefined || (module !== WASI_MODULE && expected === undefined)) {
      refuse(`it imports ${what} (${kind}), which the host does not provide`);
    }
    if (expected !== undefined && !sameType(type, expected)) {
      refuse(`it imports ${what} as ${formatType(type)}; the host provides ${formatType(expected)}`);
    }
    if (expected === undefined && !(type.results.length === 1 && type.results[0] === "i32" && type.params.every((p) => SCALARS.has(p)))) {
      refuse(`it imports ${what} as ${formatType(type)}; a WASI function returns an i32 errno`);
    }
    if (module === WASI_MODULE) wasiImports.push(name);
  }
  return wasiImports;
}

/** Checks an exported function's signature; returns whether it is exported. */
function checkExportedFunction(structure: ModuleStructure, name: string, expected: FuncType, required: boolean): boolean {
  const exp = structure.exports.find((e) => e.name === name);
  if (exp === undefined) {
    if (required) refuse(`it does not export the function ${name}`);
    return false;
  }
  const type = exp.kind === "func" ? structure.functions[exp.index] : undefined;
  if (type === undefined) refuse(`its export ${name} is not a function`);
  if (!sameType(type, expected)) refuse(`it exports ${name} as ${formatType(type)}; the ABI says ${formatType(expected)}`);
  return true;
}

/**
 * The maximum, in pages, of the guest's memory under a limit of `memoryBytes` (rounded down to
 * whole pages): the limit, or the module's own maximum if smaller. A module whose initial
 * memory alone exceeds the limit cannot run under it.
 */
export function memoryMaxPages(module: GuestModule, memoryBytes: number): number {
  const limitPages = Math.min(Math.floor(memoryBytes / PAGE_BYTES), MAX_PAGES);
  if (module.memory.min > limitPages) {
    throw GuestFailure.limitExceeded(
      "memory",
      `the guest's initial memory is ${module.memory.min * PAGE_BYTES} bytes, the limit is ${memoryBytes}`,
    );
  }
  return Math.min(module.memory.max ?? limitPages, limitPages);
}

/** The module's bytes with its memory's maximum set to `maxPages`: V8 will not grow it further. */
export function withMemoryMax(module: GuestModule, maxPages: number): Uint8Array {
  return withMemoryLimits(module.bytes, module.memorySection, { min: module.memory.min, max: maxPages });
}
