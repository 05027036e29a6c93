/**
 * A bounded reader for the WebAssembly binary format: just enough of a module's structure
 * (types, imports, functions, tables, memories, exports, start) for the host to check it
 * against the ABI and to rewrite its memory's maximum before V8 compiles it. The input is
 * hostile: every read is bounds-checked, every count is checked against the bytes left before
 * looping, and any surprise is a WasmBinaryError naming the byte offset. Code, data and custom
 * sections are skipped by their size; V8 validates them when it compiles.
 */

export class WasmBinaryError extends Error {
  override readonly name = "WasmBinaryError";
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} (at byte ${offset})`);
  }
}

export type ValType = "i32" | "i64" | "f32" | "f64" | "v128" | "funcref" | "externref";

export interface FuncType {
  readonly params: readonly ValType[];
  readonly results: readonly ValType[];
}

export interface Limits {
  readonly min: number;
  readonly max?: number;
}

export type ExternKind = "func" | "table" | "memory" | "global" | "tag";

export interface Import {
  readonly module: string;
  readonly name: string;
  readonly kind: ExternKind;
  /** The signature, for a function import. */
  readonly type?: FuncType;
}

export interface Export {
  readonly name: string;
  readonly kind: ExternKind;
  readonly index: number;
}

/** Where a section sits in the module: `start` is its id byte, `end` one past its content. */
export interface SectionSpan {
  readonly start: number;
  readonly end: number;
}

export interface ModuleStructure {
  readonly imports: readonly Import[];
  readonly exports: readonly Export[];
  /** Signatures of all functions, imported first, indexed by function index. */
  readonly functions: readonly FuncType[];
  /** Tables defined by the module (imported tables are in `imports`). */
  readonly tables: readonly Limits[];
  /** Memories defined by the module (imported memories are in `imports`). */
  readonly memories: readonly Limits[];
  readonly memorySection?: SectionSpan;
  readonly hasStart: boolean;
}

const VAL_TYPES: Readonly<Record<number, ValType>> = {
  0x7f: "i32",
  0x7e: "i64",
  0x7d: "f32",
  0x7c: "f64",
  0x7b: "v128",
  0x70: "funcref",
  0x6f: "externref",
};
const EXTERN_KINDS: readonly ExternKind[] = ["func", "table", "memory", "global", "tag"];
const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
const enum Section {
  Custom = 0,
  Type = 1,
  Import = 2,
  Function = 3,
  Table = 4,
  Memory = 5,
  Export = 7,
  Start = 8,
  LastKnown = 13, // tag (exception handling)
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

export class Reader {
  constructor(
    private readonly bytes: Uint8Array,
    public pos: number,
    private readonly end: number,
  ) {}

  get remaining(): number {
    return this.end - this.pos;
  }

  fail(message: string, at = this.pos): never {
    throw new WasmBinaryError(message, at);
  }

  byte(): number {
    if (this.pos >= this.end) this.fail("unexpected end of section");
    return this.bytes[this.pos++]!;
  }

  /** An unsigned LEB128 of at most 32 bits (at most 5 bytes, the 5th holding 4 bits). */
  u32(): number {
    const at = this.pos;
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.byte();
      if (shift === 28 && b > 0x0f) this.fail("integer does not fit in 32 bits", at);
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
    }
    return this.fail("integer does not fit in 32 bits", at);
  }

  /** A signed LEB128 of at most 32 bits (an i32.const). */
  s32(): number {
    const at = this.pos;
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.byte();
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return shift < 25 && b & 0x40 ? result | (-1 << (shift + 7)) : result;
    }
    return this.fail("integer does not fit in 32 bits", at);
  }

  /** A vector's element count, refused when even one byte per element would not fit. */
  count(): number {
    const at = this.pos;
    const n = this.u32();
    if (n > this.remaining) this.fail(`a count of ${n} exceeds the ${this.remaining} bytes left`, at);
    return n;
  }

  skip(n: number): void {
    if (n > this.remaining) this.fail(`a length of ${n} exceeds the ${this.remaining} bytes left`);
    this.pos += n;
  }

  name(): string {
    const length = this.count();
    const at = this.pos;
    this.skip(length);
    try {
      return utf8.decode(this.bytes.subarray(at, at + length));
    } catch {
      return this.fail("a name is not valid UTF-8", at);
    }
  }

  valType(): ValType {
    const at = this.pos;
    const code = this.byte();
    return VAL_TYPES[code] ?? this.fail(`unsupported value type 0x${code.toString(16)}`, at);
  }

  limits(what: string): Limits {
    const at = this.pos;
    const flags = this.byte();
    if (flags === 0x00) return { min: this.u32() };
    if (flags === 0x01) return { min: this.u32(), max: this.u32() };
    return this.fail(`${what} limits flags 0x${flags.toString(16)} are not supported (shared or 64-bit)`, at);
  }

  tableType(): Limits {
    this.valType();
    return this.limits("table");
  }
}

/** Reads the structure of a WebAssembly module. Throws WasmBinaryError on anything unexpected. */
export function readModule(bytes: Uint8Array): ModuleStructure {
  if (bytes.length < HEADER.length || HEADER.some((b, i) => bytes[i] !== b)) {
    throw new WasmBinaryError("not a WebAssembly 1.0 module (bad magic number or version)", 0);
  }
  const types: FuncType[] = [];
  const imports: Import[] = [];
  const exports: Export[] = [];
  const functions: FuncType[] = [];
  const tables: Limits[] = [];
  const memories: Limits[] = [];
  let memorySection: SectionSpan | undefined;
  let hasStart = false;
  const seen = new Set<number>();

  const outer = new Reader(bytes, HEADER.length, bytes.length);
  while (outer.remaining > 0) {
    const start = outer.pos;
    const id = outer.byte();
    const size = outer.u32();
    const contentStart = outer.pos;
    outer.skip(size);
    if (id > Section.LastKnown) outer.fail(`unknown section id ${id}`, start);
    if (id !== Section.Custom) {
      if (seen.has(id)) outer.fail(`section ${id} appears twice`, start);
      seen.add(id);
    }
    const r = new Reader(bytes, contentStart, contentStart + size);
    switch (id) {
      case Section.Type:
        for (let n = r.count(); n > 0; n--) {
          const form = r.byte();
          if (form !== 0x60) r.fail(`unsupported type form 0x${form.toString(16)}`, r.pos - 1);
          const params = Array.from({ length: r.count() }, () => r.valType());
          const results = Array.from({ length: r.count() }, () => r.valType());
          types.push({ params, results });
        }
        break;
      case Section.Import:
        for (let n = r.count(); n > 0; n--) {
          const module = r.name();
          const name = r.name();
          const kind = externKind(r);
          if (kind === "func") {
            const type = typeAt(r, types);
            functions.push(type);
            imports.push({ module, name, kind, type });
            continue;
          }
          skipImportType(r, kind);
          imports.push({ module, name, kind });
        }
        break;
      case Section.Function:
        for (let n = r.count(); n > 0; n--) functions.push(typeAt(r, types));
        break;
      case Section.Table:
        for (let n = r.count(); n > 0; n--) tables.push(r.tableType());
        break;
      case Section.Memory:
        memorySection = { start, end: contentStart + size };
        for (let n = r.count(); n > 0; n--) memories.push(r.limits("memory"));
        break;
      case Section.Export:
        for (let n = r.count(); n > 0; n--) {
          const name = r.name();
          exports.push({ name, kind: externKind(r), index: r.u32() });
        }
        break;
      case Section.Start:
        hasStart = true;
        r.u32();
        break;
      default:
        continue; // skipped by size: custom, global, element, code, data, data count, tag
    }
    if (r.remaining !== 0) r.fail(`section ${id} has ${r.remaining} bytes after its content`);
  }
  return { imports, exports, functions, tables, memories, memorySection, hasStart };
}

function externKind(r: Reader): ExternKind {
  const at = r.pos;
  const code = r.byte();
  return EXTERN_KINDS[code] ?? r.fail(`unknown import or export kind ${code}`, at);
}

/** Reads past the type of a non-function import: it is refused later, by name and kind. */
function skipImportType(r: Reader, kind: Exclude<ExternKind, "func">): void {
  switch (kind) {
    case "table":
      r.tableType();
      return;
    case "memory":
      r.limits("memory");
      return;
    case "global":
      r.valType();
      r.byte(); // mutability
      return;
    case "tag":
      r.byte(); // attribute
      r.u32(); // type index
      return;
  }
}

function typeAt(r: Reader, types: readonly FuncType[]): FuncType {
  const at = r.pos;
  const index = r.u32();
  return types[index] ?? r.fail(`type index ${index} is not defined`, at);
}

/** Unsigned LEB128, the WebAssembly binary format's integer encoding. */
export function leb128(value: number): number[] {
  const out: number[] = [];
  do {
    let b = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) b |= 0x80;
    out.push(b);
  } while (value > 0);
  return out;
}

/**
 * Returns a copy of `bytes` whose single memory declares the given limits, so that V8 itself
 * refuses to grow the memory past them (memory.grow returns -1, as for any full memory).
 */
export function withMemoryLimits(bytes: Uint8Array, span: SectionSpan, limits: Required<Limits>): Uint8Array {
  const content = [0x01, 0x01, ...leb128(limits.min), ...leb128(limits.max)];
  const section = [Section.Memory, ...leb128(content.length), ...content];
  const out = new Uint8Array(bytes.length - (span.end - span.start) + section.length);
  out.set(bytes.subarray(0, span.start), 0);
  out.set(section, span.start);
  out.set(bytes.subarray(span.end), span.start + section.length);
  return out;
}

/** Two signatures are the same. */
export function sameType(a: FuncType, b: FuncType): boolean {
  const eq = (x: readonly ValType[], y: readonly ValType[]) => x.length === y.length && x.every((t, i) => t === y[i]);
  return eq(a.params, b.params) && eq(a.results, b.results);
}

/** `(i32, i32) -> i32` */
export function formatType(t: FuncType): string {
  const results = t.results.length === 1 ? t.results[0] : `(${t.results.join(", ")})`;
  return `(${t.params.join(", ")}) -> ${results}`;
}
