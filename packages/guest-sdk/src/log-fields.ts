import { MAX_FRAME_DEPTH } from "@zkguest/protocol/core";

/**
 * How log fields become protocol Values (docs/guest-authors.md, "Log fields"). A log call never
 * throws over its fields: what has a faithful JSON-like form is converted to it, and what has
 * none is replaced, at its place, by a string saying why it was refused, so the line is still
 * logged and the run goes on.
 *
 * | value                                   | logged as                                          |
 * | null, boolean, string, finite number, Uint8Array | itself                                    |
 * | bigint                                  | its decimal string (big integers travel as strings, SPEC.md §4.1) |
 * | NaN, Infinity, -Infinity                | "NaN", "Infinity", "-Infinity"                     |
 * | Date                                    | its ISO 8601 string ("Invalid Date" for one)       |
 * | Error                                   | {name, message}, and its code when it has a string one (ZkguestError) |
 * | undefined                               | left out of a map; null in an array                |
 * | array, plain object                     | converted item by item                             |
 * | a container nested back inside itself   | "[refused: cyclic: refers back to fields.a.b]"     |
 * | a container nested too deep for a frame | "[refused: nested deeper than 32 levels (SPEC.md §3)]" |
 * | a map with the key "__proto__" (SPEC.md §3.3) | "[refused: the map key '__proto__' is refused (SPEC.md §3.3)]" |
 * | anything else (function, symbol, Map, class instance), or a value whose reading throws | "[refused: ...]" |
 *
 * Fields that are not a map after conversion (a string, an array) are logged as `{value: ...}`.
 */
export function logFields(fields: unknown): { [name: string]: unknown } {
  const converted = convert(fields, "fields", FIELDS_LEVEL, { values: [], keys: [] });
  return isPlainObject(converted) ? converted : { value: converted };
}

/** The log frame's fields map sits at this container level (envelope 1, body 2, fields 3). */
const FIELDS_LEVEL = 3;

const refused = (why: string): string => `[refused: ${why}]`;

function isPlainObject(v: unknown): v is { [name: string]: unknown } {
  if (typeof v !== "object" || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * The containers being converted, outermost first, and the key of each in its parent (the path
 * is spelled out only for a cycle). Two arrays rather than an object per container: a log call
 * with fields is on a hot path, and QuickJS pays for each allocation.
 */
interface Ancestors {
  readonly values: object[];
  readonly keys: (string | number)[];
}

/** `fields.a[2].b`: the path of the ancestor at `index`. */
function pathOf(ancestors: Ancestors, index: number): string {
  let path = String(ancestors.keys[0]);
  for (let i = 1; i <= index; i++) {
    const key = ancestors.keys[i]!;
    path += typeof key === "number" ? `[${key}]` : `.${key}`;
  }
  return path;
}

/**
 * `v` as a Value. Containers are always copied, so that the frame's writer reads only what was
 * converted, never the caller's getters or proxies again. `level` is the container level `v` is
 * written at, `key` its key in its parent; `ancestors` the containers it sits in.
 */
function convert(v: unknown, key: string | number, level: number, ancestors: Ancestors): unknown {
  switch (typeof v) {
    case "string":
    case "boolean":
      return v;
    case "number":
      return Number.isFinite(v) ? v : String(v);
    case "bigint":
      return v.toString();
    case "undefined":
      return null;
    case "object":
      if (v === null) return v;
      try {
        return convertObject(v, key, level, ancestors);
      } catch (err) {
        // A proxy's trap, a throwing constructor getter or toISOString.
        return refused(`reading it threw ${describeThrown(err)}`);
      }
    default:
      return refused(`a ${typeof v} is not a protocol value`);
  }
}

/** An object by its prototype: plain maps and arrays first, the common case (each instanceof costs QuickJS about a microsecond). */
function convertObject(v: object, key: string | number, level: number, ancestors: Ancestors): unknown {
  const proto = Object.getPrototypeOf(v);
  const map = proto === Object.prototype || proto === null;
  if (!map && !Array.isArray(v)) {
    if (v instanceof Uint8Array) return v;
    if (v instanceof Date) return Number.isNaN(v.getTime()) ? "Invalid Date" : v.toISOString();
    if (v instanceof Error) return errorFields(v);
    return refused(`${v.constructor?.name ?? "an object"}: only plain objects, arrays, Date and Error are converted`);
  }
  const cycle = ancestors.values.indexOf(v);
  if (cycle !== -1) return refused(`cyclic: refers back to ${pathOf(ancestors, cycle)}`);
  if (level > MAX_FRAME_DEPTH) return refused(`nested deeper than ${MAX_FRAME_DEPTH} levels (SPEC.md §3)`);
  ancestors.values.push(v);
  ancestors.keys.push(key);
  const out = map ? convertMap(v as { [name: string]: unknown }, level, ancestors) : convertArray(v as unknown[], level, ancestors);
  ancestors.values.pop();
  ancestors.keys.pop();
  return out;
}

function convertArray(v: readonly unknown[], level: number, ancestors: Ancestors): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < v.length; i++) out.push(convert(read(v, i), i, level + 1, ancestors));
  return out;
}

function convertMap(v: { [name: string]: unknown }, level: number, ancestors: Ancestors): unknown {
  const keys = Object.keys(v);
  const out: { [name: string]: unknown } = {};
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (key === "__proto__") return refused("the map key '__proto__' is refused (SPEC.md §3.3)");
    const value = read(v, key);
    // A map entry that is undefined is left out, as the protocol's writer and JSON leave it out.
    if (value !== undefined) out[key] = convert(value, key, level + 1, ancestors);
  }
  return out;
}

/** `v[key]`, read once (a getter may answer differently each time), or why it could not be read. */
function read(v: object, key: string | number): unknown {
  try {
    return (v as Record<string | number, unknown>)[key];
  } catch (err) {
    return refused(`reading it threw ${describeThrown(err)}`);
  }
}

/** An Error as a map: its name and message, and its code when it has a string one (ZkguestError). */
function errorFields(e: Error): { [name: string]: string } {
  const code = (e as { code?: unknown }).code;
  return { name: String(e.name), message: String(e.message), ...(typeof code === "string" ? { code } : {}) };
}

function describeThrown(err: unknown): string {
  try {
    return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  } catch {
    return "something that cannot be shown";
  }
}
