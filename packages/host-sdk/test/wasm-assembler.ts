/**
 * A small WebAssembly module assembler for tests: hostile and malformed guests written as
 * bytes, without a WAT toolchain. Only what the tests need: function types, function imports,
 * one memory, tables, functions with locals, exports, a start function and data segments.
 */

export const I32 = 0x7f;
export const I64 = 0x7e;
const FUNCREF = 0x70;
type ValType = typeof I32 | typeof I64;

import { leb128 as uleb } from "../src/engine/wasm-binary.js";

export { uleb };

export function sleb(value: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = value & 0x7f;
    value >>= 7;
    const done = (value === 0 && (b & 0x40) === 0) || (value === -1 && (b & 0x40) !== 0);
    out.push(done ? b : b | 0x80);
    if (done) return out;
  }
}

const name = (s: string) => {
  const bytes = [...new TextEncoder().encode(s)];
  return [...uleb(bytes.length), ...bytes];
};
const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const section = (id: number, content: number[]) => [id, ...uleb(content.length), ...content];
const limits = (min: number, max?: number) => (max === undefined ? [0x00, ...uleb(min)] : [0x01, ...uleb(min), ...uleb(max)]);

/** Instructions, as byte arrays to spread into a function body. */
export const op = {
  unreachable: [0x00],
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  if: [0x04, 0x40],
  try: [0x06, 0x40],
  catchAll: [0x19],
  end: [0x0b],
  br: (depth: number) => [0x0c, ...uleb(depth)],
  brIf: (depth: number) => [0x0d, ...uleb(depth)],
  call: (func: number) => [0x10, ...uleb(func)],
  drop: [0x1a],
  localGet: (i: number) => [0x20, ...uleb(i)],
  localSet: (i: number) => [0x21, ...uleb(i)],
  localTee: (i: number) => [0x22, ...uleb(i)],
  i32Store: [0x36, 0x02, 0x00],
  memoryGrow: [0x40, 0x00],
  i32Const: (n: number) => [0x41, ...sleb(n | 0)],
  i64Const: (n: number) => [0x42, ...sleb(n)],
  i32Eq: [0x46],
  i32Ne: [0x47],
  i32Add: [0x6a],
  i32Sub: [0x6b],
};

interface Func {
  type: number;
  locals: number[];
  body: number[];
}

export class ModuleBuilder {
  private readonly types: string[] = [];
  private readonly imports: number[][] = [];
  private readonly funcs: Func[] = [];
  private readonly exports: number[][] = [];
  private readonly tables: number[][] = [];
  private readonly segments: number[][] = [];
  private memoryLimits: number[] | undefined;
  private importedFuncs = 0;
  private startFunc: number | undefined;

  private type(params: ValType[], results: ValType[]): number {
    const encoded = JSON.stringify([0x60, ...vec(params.map((p) => [p])), ...vec(results.map((r) => [r]))]);
    const found = this.types.indexOf(encoded);
    return found !== -1 ? found : this.types.push(encoded) - 1;
  }

  /** Imports a function; returns its function index. Imports must come before functions. */
  importFunc(module: string, field: string, params: ValType[], results: ValType[] = [I32]): number {
    if (this.funcs.length > 0) throw new Error("import functions before defining any");
    this.imports.push([...name(module), ...name(field), 0x00, ...uleb(this.type(params, results))]);
    return this.importedFuncs++;
  }

  importMemory(module: string, field: string, min: number): this {
    this.imports.push([...name(module), ...name(field), 0x02, ...limits(min)]);
    return this;
  }

  importGlobal(module: string, field: string): this {
    this.imports.push([...name(module), ...name(field), 0x03, I32, 0x00]);
    return this;
  }

  /** Defines a function (body without the final `end`); returns its function index. */
  func(params: ValType[], results: ValType[], body: number[], options: { export?: string; locals?: number } = {}): number {
    const index = this.importedFuncs + this.funcs.push({ type: this.type(params, results), locals: options.locals ? [options.locals] : [], body }) - 1;
    if (options.export !== undefined) this.exportFunc(options.export, index);
    return index;
  }

  exportFunc(field: string, index: number): this {
    this.exports.push([...name(field), 0x00, ...uleb(index)]);
    return this;
  }

  memory(min: number, max?: number, exportAs: string | null = "memory"): this {
    this.memoryLimits = limits(min, max);
    if (exportAs !== null) this.exports.push([...name(exportAs), 0x02, 0x00]);
    return this;
  }

  table(min: number, max?: number): this {
    this.tables.push([FUNCREF, ...limits(min, max)]);
    return this;
  }

  start(func: number): this {
    this.startFunc = func;
    return this;
  }

  /** A data segment at a constant offset in memory 0. */
  data(offset: number, bytes: number[]): this {
    this.segments.push([0x00, ...op.i32Const(offset), ...op.end, ...uleb(bytes.length), ...bytes]);
    return this;
  }

  build(): Uint8Array {
    const types = this.types.map((t) => JSON.parse(t) as number[]);
    const code = this.funcs.map((f) => {
      const locals = f.locals.map((n) => [...uleb(n), I32]);
      const body = [...vec(locals), ...f.body, ...op.end];
      return [...uleb(body.length), ...body];
    });
    const bytes = [
      ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
      ...(types.length ? section(1, vec(types)) : []),
      ...(this.imports.length ? section(2, vec(this.imports)) : []),
      ...(this.funcs.length ? section(3, vec(this.funcs.map((f) => uleb(f.type)))) : []),
      ...(this.tables.length ? section(4, vec(this.tables)) : []),
      ...(this.memoryLimits ? section(5, vec([this.memoryLimits])) : []),
      ...(this.exports.length ? section(7, vec(this.exports)) : []),
      ...(this.startFunc !== undefined ? section(8, uleb(this.startFunc)) : []),
      ...(code.length ? section(10, vec(code)) : []),
      ...(this.segments.length ? section(11, vec(this.segments)) : []),
    ];
    return new Uint8Array(bytes);
  }
}

/** Where test guests keep things in memory. */
export const SCRATCH = 16; // an i32 the guest stores a status in before replying with it
export const REQUEST_AT = 1024; // where zkguest_alloc places the host's request

/**
 * A guest skeleton: one memory of `pages`, the three zkguest imports (functions 0, 1, 2),
 * a zkguest_alloc whose body is `alloc` (default: return REQUEST_AT), and a zkguest_handle with the body given by
 * `handle` (params: 0 = ptr, 1 = len; `locals` extra i32 locals from index 2, default 2).
 * `setup` may import more functions (indices from 3) before the functions are defined.
 */
export function guest(
  handle: (fn: { call: number; take: number; reply: number }) => number[],
  options: { pages?: number; maxPages?: number; locals?: number; alloc?: number[]; setup?: (m: ModuleBuilder) => void } = {},
): ModuleBuilder {
  const m = new ModuleBuilder();
  const call = m.importFunc("zkguest", "call", [I32, I32]);
  const take = m.importFunc("zkguest", "take", [I32, I32]);
  const reply = m.importFunc("zkguest", "reply", [I32, I32]);
  options.setup?.(m);
  m.memory(options.pages ?? 1, options.maxPages);
  m.func([I32], [I32], options.alloc ?? op.i32Const(REQUEST_AT), { export: "zkguest_alloc" });
  m.func([I32, I32], [I32], handle({ call, take, reply }), { export: "zkguest_handle", locals: options.locals ?? 2 });
  return m;
}

/** Instructions: store the i32 on the stack at SCRATCH, reply with those 4 bytes, return 0. */
export function replyWithStatus(reply: number): number[] {
  return [
    ...op.localSet(2),
    ...op.i32Const(SCRATCH),
    ...op.localGet(2),
    ...op.i32Store,
    ...op.i32Const(SCRATCH),
    ...op.i32Const(4),
    ...op.call(reply),
    ...op.drop,
    ...op.i32Const(0),
  ];
}

/** Reads the status a replyWithStatus guest replied with. */
export function statusOf(response: Uint8Array): number {
  return new DataView(response.buffer, response.byteOffset, 4).getInt32(0, true);
}
