import * as t from "io-ts";

type Required<R extends t.Props> = { [K in keyof R]: t.TypeOf<R[K]> };
type Optional<O extends t.Props> = { [K in keyof O]?: t.TypeOf<O[K]> };
export type StructOf<R extends t.Props, O extends t.Props> = Required<R> & Optional<O>;

function isMap(u: unknown): u is Record<string, unknown> {
  return typeof u === "object" && u !== null && !Array.isArray(u) && !(u instanceof Uint8Array);
}

/**
 * An exact record codec: `required` fields must be present, `optional` ones may be absent (an
 * absent field is never `undefined` in the output), and any other key is dropped. It does what
 * `t.exact(t.intersection([t.type(required), t.partial(optional)]))` does in one pass, which
 * matters on the hot path of every frame (see docs/benchmarks.md). Field names are the spec's,
 * none of which is an Object.prototype member, so plain property reads are safe.
 */
export class StructType<R extends t.Props, O extends t.Props> extends t.Type<StructOf<R, O>, StructOf<R, O>, unknown> {
  readonly _tag = "StructType" as const;
  constructor(
    name: string,
    readonly required: R,
    readonly optional: O,
  ) {
    const requiredKeys = Object.keys(required);
    const optionalKeys = Object.keys(optional);
    // Field names are ASCII, so JS string order is the wire's bytewise order.
    const fields: [string, t.Mixed][] = [...Object.entries(required), ...Object.entries(optional)].sort(([a], [b]) => (a < b ? -1 : 1));
    super(
      name,
      (u): u is StructOf<R, O> =>
        isMap(u) &&
        requiredKeys.every((k) => required[k]!.is(u[k])) &&
        optionalKeys.every((k) => u[k] === undefined || optional[k]!.is(u[k])),
      (u, c) => {
        if (!isMap(u)) return t.failure(u, c, `expected a map (${name})`);
        for (const k of requiredKeys) {
          if (u[k] === undefined) return t.failure(undefined, t.appendContext(c, k, required[k]!, undefined));
        }
        // The output is built in canonical key order, so that encoding it again needs no sorting.
        const out: Record<string, unknown> = {};
        for (const [k, codec] of fields) {
          const v = u[k];
          if (v === undefined) continue;
          const r = codec.validate(v, t.appendContext(c, k, codec, v));
          if (r._tag === "Left") return r;
          out[k] = r.right;
        }
        return t.success(out as StructOf<R, O>);
      },
      t.identity,
    );
  }
}

export function struct<R extends t.Props, O extends t.Props = {}>(name: string, required: R, optional: O = {} as O): StructType<R, O> {
  return new StructType(name, required, optional);
}

/**
 * A union of structs told apart by a literal field (`tag`): validation goes straight to the
 * member the tag names, instead of trying each member in turn as t.union does (which builds and
 * discards the errors of every member tried before the right one).
 */
export function taggedUnion<Tag extends string, M extends Record<string, t.Mixed>>(name: string, tag: Tag, members: M): TaggedUnionType<M> {
  return new TaggedUnionType(name, tag, members);
}

export class TaggedUnionType<M extends Record<string, t.Mixed>> extends t.Type<t.TypeOf<M[keyof M]>, t.TypeOf<M[keyof M]>, unknown> {
  readonly _tag = "TaggedUnionType" as const;
  constructor(
    name: string,
    tag: string,
    readonly members: M,
  ) {
    const tags = Object.keys(members);
    super(
    name,
    (u): u is t.TypeOf<M[keyof M]> => isMap(u) && typeof u[tag] === "string" && Object.prototype.hasOwnProperty.call(members, u[tag]) && members[u[tag] as string]!.is(u),
    (u, c) => {
      if (!isMap(u)) return t.failure(u, c, `expected a map (${name})`);
      const which = u[tag];
      if (typeof which !== "string" || !Object.prototype.hasOwnProperty.call(members, which)) {
        return t.failure(which, t.appendContext(c, tag, t.string, which), `expected ${tags.map((x) => JSON.stringify(x)).join(" | ")}`);
      }
      return members[which]!.validate(u, c);
    },
    t.identity,
    );
  }
}
