import {
  ERROR_CODES,
  SUPPORTED_VERSIONS,
  formatVersion,
  type ErrorCode,
  type Failure,
  type Limits,
  type LogEntry,
  type Value,
  type Version,
} from "@zkguest/protocol/core";
import { readableId, readMessagePack, type FloatPath } from "@zkguest/protocol/wire";

/**
 * The frames a guest receives, checked as SPEC.md §3.3 requires: the host's requests (hello,
 * witness.get, proof.result) and the responses to the guest's own requests (ok, error). The
 * reference checks are the io-ts codecs of @zkguest/protocol; these are small schemas instead,
 * so that a guest bundle stays small, and a property test holds both to the same verdicts.
 */

export type ProofResultBody = { success: boolean; args: Value; logs: LogEntry[]; proof?: Uint8Array; error?: Failure; stage?: "witness" | "prove" };

export type Incoming = { v: Version; id: number } & (
  | { kind: "hello"; body: { offer: Version[]; host: string; limits: Limits } }
  | { kind: "witness.get"; body: { args: Value } }
  | { kind: "proof.result"; body: ProofResultBody }
  | { kind: "ok"; body: { value: Value } }
  | { kind: "error"; body: Failure }
  /** A guest-to-host request sent to the guest: a known kind, never valid in this direction. */
  | { kind: "guest-request"; name: string; body: unknown }
);

/** Why a frame was refused; `id` is set when the request id could be read, so it can be answered. */
export interface Refusal extends Failure {
  readonly id?: number;
}

/** Checks `u` (found at `where`) and returns the value to keep, or throws BadField. */
type Schema = (u: unknown, where: string) => unknown;

class BadField {
  constructor(readonly why: string) {}
}

function describe(u: unknown): string {
  if (u === undefined) return "nothing";
  if (u instanceof Uint8Array) return `bytes(${u.length})`;
  if (Array.isArray(u)) return `an array of ${u.length}`;
  if (u && typeof u === "object") return "a map";
  return typeof u === "string" ? JSON.stringify(u.slice(0, 40)) : String(u);
}

const isMap = (u: unknown): u is Record<string, unknown> => !!u && typeof u === "object" && !Array.isArray(u) && !(u instanceof Uint8Array);
const isUInt = (u: unknown, max: number): u is number => Number.isInteger(u) && (u as number) >= 0 && (u as number) <= max;

/** A schema that accepts what `ok` accepts, described as `expected` in errors. */
const when =
  (ok: (u: unknown) => boolean, expected: string): Schema =>
  (u, where) => {
    if (!ok(u)) throw new BadField(`${where}: expected ${expected}, got ${describe(u)}`);
    return u;
  };

const string = when((u) => typeof u === "string", "a string");
const bool = when((u) => typeof u === "boolean", "a boolean");
const uint = when((u) => isUInt(u, Number.MAX_SAFE_INTEGER), "an unsigned integer");
const value = when((u) => u !== undefined, "a value");
const version = when((u) => Array.isArray(u) && u.length === 2 && isUInt(u[0], 0xffff) && isUInt(u[1], 0xffff), "[major, minor]");
const arrayOf =
  (item: Schema): Schema =>
  (u, where) =>
    (when(Array.isArray, "an array")(u, where) as unknown[]).map((x, i) => item(x, `${where}.${i}`));

/** A map with `required` and `optional` fields; other keys are ignored (SPEC.md §3.3). */
const struct =
  (required: Record<string, Schema>, optional: Record<string, Schema> = {}): Schema =>
  (u, where) => {
    const m = when(isMap, "a map")(u, where) as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const k in required) out[k] = required[k]!(m[k], `${where}.${k}`);
    for (const k in optional) if (m[k] !== undefined) out[k] = optional[k]!(m[k], `${where}.${k}`);
    return out;
  };

/** An error body; a code this side does not know reads as `internal`, the code kept in the message (SPEC.md §8). */
const errorBody: Schema = (u, where) => {
  const { code, message } = struct({ code: string, message: string })(u, where) as { code: string; message: string };
  return (ERROR_CODES as readonly string[]).includes(code) ? { code, message } : { code: "internal", message: `[${code}] ${message}` };
};

const LIMITS_REQUIRED = ["max_frame_bytes", "max_path_bytes", "max_log_message_bytes"];
const LIMITS_OPTIONAL = ["max_log_bytes", "max_host_calls", "quota_bytes", "quota_files", "memory_bytes", "stack_bytes", "time_ms"];
const uints = (keys: readonly string[]) => Object.fromEntries(keys.map((k) => [k, uint]));

/** proof.result's proof is present if and only if success is true, its error if and only if it is false (SPEC.md §5.1). */
const proofResult: Schema = (u, where) => {
  const b = struct(
    {
      success: bool,
      args: value,
      logs: arrayOf(struct({ level: when((x) => ["debug", "info", "warn", "error"].includes(x as string), "debug, info, warn or error"), message: string }, { fields: when(isMap, "a map") })),
    },
    { proof: when((x) => x instanceof Uint8Array, "bytes (bin)"), error: errorBody, stage: when((x) => x === "witness" || x === "prove", "witness or prove") },
  )(u, where) as ProofResultBody;
  if (b.success !== (b.proof !== undefined)) throw new BadField(`${where}: proof must be present if and only if success is true`);
  if (b.success === (b.error !== undefined)) throw new BadField(`${where}: error must be present if and only if success is false`);
  if (b.success && b.stage !== undefined) throw new BadField(`${where}: stage names the step that failed, only when success is false`);
  return b;
};

const BODIES: Record<string, Schema> = {
  hello: struct({
    offer: arrayOf(version),
    host: string,
    limits: struct(uints(LIMITS_REQUIRED), uints(LIMITS_OPTIONAL)),
  }),
  "witness.get": struct({ args: value }),
  "proof.result": proofResult,
  ok: struct({ value }),
  error: errorBody,
};

const GUEST_KINDS = ["witness.ready", "fs.store", "fs.read", "fs.list", "fs.stat", "fs.remove", "fs.mkdir", "log"];

/**
 * Floats are refused where this version defines an integer (SPEC.md §3.3): the envelope's id
 * and v, and hello's offer and known limits. Anywhere else a float is a Value's, or sits under a
 * key a later minor may add, and is not refused. (The host's decode finds the same places from
 * its codecs; a property test holds both to the same verdicts.)
 */
function floatRefused(kind: string, [root, field, sub]: FloatPath): boolean {
  if (root === "id" || root === "v") return true;
  if (root !== "body" || kind !== "hello") return false;
  return field === "offer" || (field === "limits" && (LIMITS_REQUIRED.includes(sub as string) || LIMITS_OPTIONAL.includes(sub as string)));
}

/**
 * Reads and checks one frame the guest received. Never throws: the result is a frame of a
 * known kind with a checked body, or the Refusal a peer must answer with (frame_too_large,
 * malformed_frame, unsupported_version, unknown_kind).
 */
export function readFrame(bytes: Uint8Array, maxFrameBytes: number): { ok: true; frame: Incoming } | { ok: false; refusal: Refusal } {
  const refuse = (code: ErrorCode, message: string, id?: number) => ({ ok: false as const, refusal: id === undefined ? { code, message } : { code, message, id } });
  if (bytes.length > maxFrameBytes) return refuse("frame_too_large", `frame is ${bytes.length} bytes, the limit is ${maxFrameBytes}`);
  const read = readMessagePack(bytes);
  // A fault inside the value does not hide an id that can still be read (SPEC.md §3.4).
  if (!read.ok) return refuse("malformed_frame", read.why, readableId(bytes));
  const raw = read.value;
  if (!isMap(raw)) return refuse("malformed_frame", "a frame must be a map with keys v, id, kind, body");
  const { id, v, kind, body } = raw;
  if (!isUInt(id, 0xffffffff)) return refuse("malformed_frame", `id: expected a request id (0 .. 2^32-1), got ${describe(id)}`);
  try {
    const ver = version(v, "v") as Version;
    if (!SUPPORTED_VERSIONS.some(([major]) => major === ver[0])) {
      return refuse("unsupported_version", `frame is version ${formatVersion(ver)}, this peer speaks ${SUPPORTED_VERSIONS.map(formatVersion).join(", ")}`, id);
    }
    string(kind, "kind");
    // Own keys only: "constructor" or "toString" must be unknown kinds, not Object.prototype's.
    const schema: Schema | undefined = Object.hasOwn(BODIES, kind as string) ? BODIES[kind as string] : undefined;
    if (!schema && !GUEST_KINDS.includes(kind as string)) return refuse("unknown_kind", `unknown message kind '${kind}'`, id);
    // Checked in SPEC.md §3.3's order, as the host's decode does: the body, then floats. The
    // bodies of guest-request kinds are not read, but a float in their envelope still refuses them.
    const checked = schema ? schema(body, "body") : when(isMap, "a map")(body, "body");
    const float = read.floats.find((p) => floatRefused(kind as string, p));
    if (float) return refuse("malformed_frame", `${float.join(".")}: a float where an integer is required`, id);
    if (!schema) return { ok: true, frame: { v: ver, id, kind: "guest-request", name: kind as string, body: checked } };
    return { ok: true, frame: { v: ver, id, kind, body: checked } as Incoming };
  } catch (e) {
    if (e instanceof BadField) return refuse("malformed_frame", `${typeof kind === "string" ? `${kind} ` : ""}${e.why}`, id);
    throw e;
  }
}

/** The canonical bytes of an `ok` frame with a nil value, around its id: `{body: {value: nil}, id: `, then `, kind: "ok", v: [`. */
const OK_NIL_HEAD = [0x84, 0xa4, 0x62, 0x6f, 0x64, 0x79, 0x81, 0xa5, 0x76, 0x61, 0x6c, 0x75, 0x65, 0xc0, 0xa2, 0x69, 0x64];
const OK_NIL_TAIL = [0xa4, 0x6b, 0x69, 0x6e, 0x64, 0xa2, 0x6f, 0x6b, 0xa1, 0x76, 0x92];

/** Big-endian 32-bit words of those bytes, to compare four at a time. */
const word = (b: readonly number[], i: number): number => ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
const HEAD_WORDS = [word(OK_NIL_HEAD, 0), word(OK_NIL_HEAD, 4), word(OK_NIL_HEAD, 8), word(OK_NIL_HEAD, 12)] as const;
/** The tail's two words, then its last three bytes with the version's major as the fourth. */
const TAIL_WORDS = [word(OK_NIL_TAIL, 0), word(OK_NIL_TAIL, 4), word([...OK_NIL_TAIL.slice(8), 0], 0)] as const;

/**
 * Whether `answer` is exactly the canonical `ok nil` answer to request `id` at version `v` (the
 * answer to every log and most other requests), recognised by comparing bytes instead of
 * decoding: the strict reader is slow in QuickJS, and would read these bytes the same way.
 * Four bytes per comparison, with no copy: inside QuickJS every call and every loop step costs
 * about as much as a comparison. Anything else, including a valid non-canonical encoding, goes
 * to readFrame.
 */
export function isOkNil(answer: ArrayBuffer, id: number, v: Version): boolean {
  // The id in its smallest form (SPEC.md §3.2): a fixint, or 0xcc, 0xcd, 0xce and 1, 2 or 4 bytes.
  const idLength = id < 0x80 ? 1 : id < 0x100 ? 2 : id < 0x10000 ? 3 : 5;
  if (v[0] >= 0x80 || v[1] >= 0x80 || answer.byteLength !== OK_NIL_HEAD.length + idLength + OK_NIL_TAIL.length + 2) return false;
  const d = new DataView(answer);
  const h = OK_NIL_HEAD.length;
  if (d.getUint32(0) !== HEAD_WORDS[0] || d.getUint32(4) !== HEAD_WORDS[1] || d.getUint32(8) !== HEAD_WORDS[2] || d.getUint32(12) !== HEAD_WORDS[3] || d.getUint8(16) !== OK_NIL_HEAD[16]) return false;
  const idMatches =
    idLength === 1 ? d.getUint8(h) === id
    : idLength === 2 ? d.getUint8(h) === 0xcc && d.getUint8(h + 1) === id
    : idLength === 3 ? d.getUint8(h) === 0xcd && d.getUint16(h + 1) === id
    : d.getUint8(h) === 0xce && d.getUint32(h + 1) === id;
  const t = h + idLength;
  return idMatches && d.getUint32(t) === TAIL_WORDS[0] && d.getUint32(t + 4) === TAIL_WORDS[1] && d.getUint32(t + 8) === TAIL_WORDS[2] + v[0] && d.getUint8(t + 12) === v[1];
}
