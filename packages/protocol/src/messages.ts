import * as t from "io-ts";
import { ErrorCodeC, type Failure } from "./errors.js";
import { LimitsC } from "./limits.js";
import { BytesC, FieldsC, IdC, UIntC, ValueC, type Value } from "./values.js";
import { struct, StructType, taggedUnion, TaggedUnionType } from "./struct.js";
import { VersionC, type Version } from "./version.js";

// Every message body, one codec each (SPEC.md §5). The TypeScript types are derived from these
// codecs; nothing else defines the shape of a message. Codecs are exact (struct.ts): fields a
// later minor version adds are dropped on decode, which is what "ignored" means in SPEC.md §8.

export const LogLevelC = t.keyof({ debug: null, info: null, warn: null, error: null });
export type LogLevel = t.TypeOf<typeof LogLevelC>;

/** One log line, as the guest sent it or as the host recorded it (exceptions, traps). */
export const LogEntryC = struct("LogEntry", { level: LogLevelC, message: t.string }, { fields: FieldsC });
export type LogEntry = t.TypeOf<typeof LogEntryC>;

export const DataWitnessC = struct("DataWitness", { type: t.literal("data"), data: BytesC });
export const StateProofWitnessC = struct("StateProofWitness", {
  type: t.literal("state_proof"),
  domain: t.string,
  root: BytesC,
  payload: BytesC,
  proof: BytesC,
});
export const WitnessC = taggedUnion("Witness", "type", { data: DataWitnessC, state_proof: StateProofWitnessC });
export type Witness = t.TypeOf<typeof WitnessC>;

const ErrorShapeC = struct("Error", { code: t.string, message: t.string });

/**
 * The body of an `error` response. A minor version may add error codes (SPEC.md §8): a code
 * this side does not know is read as `internal`, the unknown code kept at the front of the message.
 */
export const ErrorBodyC = new t.Type<Failure, Failure, unknown>(
  "ErrorBody",
  (u): u is Failure => ErrorShapeC.is(u) && ErrorCodeC.is(u.code),
  (u, c) => {
    const shape = ErrorShapeC.validate(u, c);
    if (shape._tag === "Left") return shape;
    const { code, message } = shape.right;
    return t.success(ErrorCodeC.is(code) ? { code, message } : { code: "internal", message: `[${code}] ${message}` });
  },
  t.identity,
);

export const StatC = struct("Stat", {
  name: t.string,
  type: t.keyof({ file: null, dir: null }),
  size: UIntC,
  /** Last write, `YYYY-MM-DDTHH:MM:SS` (FAT keeps local time with 2-second precision; no zone). */
  modified: t.string,
});
export type Stat = t.TypeOf<typeof StatC>;

export const StoreModeC = t.keyof({ create: null, overwrite: null, append: null });
export type StoreMode = t.TypeOf<typeof StoreModeC>;

export const HelloReplyC = struct("HelloReply", { version: VersionC, guest: t.string });
export type HelloReply = t.TypeOf<typeof HelloReplyC>;

/** Which step of proving failed, in a failed `proof.result` (1.1, SPEC.md §5.1): the witness step, or the prover. */
export const ProofStageC = t.keyof({ witness: null, prove: null });
export type ProofStage = t.TypeOf<typeof ProofStageC>;

/** Requests the host sends to the guest. */
export const HOST_REQUESTS = {
  hello: struct("hello", { offer: t.array(VersionC), host: t.string, limits: LimitsC }),
  "witness.get": struct("witness.get", { args: ValueC }),
  "proof.result": struct("proof.result", { success: t.boolean, args: ValueC, logs: t.array(LogEntryC) }, { proof: BytesC, error: ErrorBodyC, stage: ProofStageC }),
};

/** Requests the guest sends to the host. */
export const GUEST_REQUESTS = {
  "witness.ready": struct("witness.ready", { witnesses: t.array(WitnessC) }),
  "fs.store": struct("fs.store", { path: t.string, data: BytesC, mode: StoreModeC }),
  "fs.read": struct("fs.read", { path: t.string }, { offset: UIntC, length: UIntC }),
  /** `offset` and `length` (1.1) page through a large directory, as fs.read's do through a file. */
  "fs.list": struct("fs.list", { path: t.string }, { offset: UIntC, length: UIntC }),
  "fs.stat": struct("fs.stat", { path: t.string }),
  "fs.remove": struct("fs.remove", { path: t.string }),
  "fs.mkdir": struct("fs.mkdir", { path: t.string }, { parents: t.boolean }),
  log: struct("log", { level: LogLevelC, message: t.string }, { fields: FieldsC }),
};

/** Responses, in either direction; `id` is the id of the request answered. */
export const RESPONSES = {
  ok: struct("ok", { value: ValueC }),
  error: ErrorBodyC,
};

export const BODIES = { ...HOST_REQUESTS, ...GUEST_REQUESTS, ...RESPONSES };

export type HostRequestKind = keyof typeof HOST_REQUESTS;
export type GuestRequestKind = keyof typeof GUEST_REQUESTS;
export type RequestKind = HostRequestKind | GuestRequestKind;
export type ResponseKind = keyof typeof RESPONSES;
export type Kind = keyof typeof BODIES;
export type Body<K extends Kind> = t.TypeOf<(typeof BODIES)[K]>;

export const KINDS = Object.keys(BODIES) as readonly Kind[];
export const HOST_REQUEST_KINDS = Object.keys(HOST_REQUESTS) as readonly HostRequestKind[];
export const GUEST_REQUEST_KINDS = Object.keys(GUEST_REQUESTS) as readonly GuestRequestKind[];

export function isKind(s: string): s is Kind {
  return Object.prototype.hasOwnProperty.call(BODIES, s);
}

/** One frame: the envelope and the body of its kind (SPEC.md §3). */
export type Frame<K extends Kind = Kind> = {
  [P in K]: { readonly v: Version; readonly id: number; readonly kind: P; readonly body: Body<P> };
}[K];
export type Message = Frame;
export type Request = Frame<RequestKind>;
export type Response = Frame<ResponseKind>;

/** What an `ok` response carries for each request kind (SPEC.md §5). */
export const RESULTS = {
  hello: HelloReplyC,
  "witness.get": t.null,
  "proof.result": t.null,
  "witness.ready": t.null,
  "fs.store": StatC,
  "fs.read": BytesC,
  "fs.list": t.array(StatC),
  "fs.stat": StatC,
  "fs.remove": t.null,
  "fs.mkdir": t.null,
  log: t.null,
} satisfies Record<RequestKind, t.Mixed>;
export type Result<K extends RequestKind> = t.TypeOf<(typeof RESULTS)[K]>;

/**
 * Rules about a body that its fields' codecs cannot say alone, checked after them (SPEC.md §5):
 * a sentence naming the broken rule, or undefined.
 */
export const BODY_RULES: { readonly [K in Kind]?: (body: Body<K>) => string | undefined } = {
  "proof.result": (b) => {
    if (b.success && b.proof === undefined) return "success is true but there is no proof (proof is present if and only if success is true)";
    if (!b.success && b.proof !== undefined) return "success is false but a proof is present (proof is present if and only if success is true)";
    if (b.success && b.error !== undefined) return "success is true but an error is present (error is present if and only if success is false)";
    if (!b.success && b.error === undefined) return "success is false but there is no error (error is present if and only if success is false)";
    if (b.success && b.stage !== undefined) return "success is true but a stage is present (stage names the step that failed, only when success is false)";
    return undefined;
  },
};

/** The codecs whose values are integers: where a float on the wire is refused. */
const INTEGER_CODECS: readonly t.Mixed[] = [UIntC, IdC, VersionC];

/**
 * Whether a float at `path` (keys and indexes from the frame's root) sits where this version
 * defines an integer, and so must be refused (SPEC.md §3.3): the envelope's `id` and `v`, and
 * integer fields of the kind's body, found by walking its codecs. A float inside a Value field,
 * or under a key this version does not define (which a later minor may add, SPEC.md §8), is not.
 */
export function floatRefusedAt(kind: Kind, path: readonly (string | number)[]): boolean {
  const [root, ...rest] = path;
  if (root === "id" || root === "v") return true;
  if (root !== "body") return false;
  let codec: t.Mixed | undefined = BODIES[kind] === ErrorBodyC ? ErrorShapeC : BODIES[kind];
  for (const step of rest) {
    if (codec === undefined || codec === ValueC || codec === FieldsC) return false;
    if (INTEGER_CODECS.includes(codec)) return true;
    codec = fieldCodec(codec, step);
  }
  return codec !== undefined && codec !== ValueC && codec !== FieldsC;
}

/** The codec of `step` inside `codec`; undefined for a key it does not define. */
function fieldCodec(codec: t.Mixed, step: string | number): t.Mixed | undefined {
  if (codec === ErrorBodyC) return fieldCodec(ErrorShapeC, step);
  if (codec instanceof StructType) {
    const fields = { ...(codec.required as t.Props), ...(codec.optional as t.Props) };
    return typeof step === "string" && Object.prototype.hasOwnProperty.call(fields, step) ? fields[step] : undefined;
  }
  if (codec instanceof t.ArrayType) return typeof step === "number" ? (codec.type as t.Mixed) : undefined;
  if (codec instanceof TaggedUnionType) {
    // Which member applies is not known from a path: a key that is an integer in any member counts.
    const found = Object.values(codec.members as Record<string, t.Mixed>).map((m) => fieldCodec(m, step)).filter((c) => c !== undefined);
    return found.find((c) => INTEGER_CODECS.includes(c!)) ?? found[0];
  }
  return undefined;
}

export type { Value };
