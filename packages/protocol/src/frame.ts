import { either as E } from "fp-ts";
import * as t from "io-ts";
import { failure, type ErrorCode, type Failure } from "./errors.js";
import { DEFAULT_LIMITS } from "./limits.js";
import { BODIES, BODY_RULES, floatRefusedAt, isKind, type Body, type Frame, type Kind, type Message } from "./messages.js";
import { IdC } from "./values.js";
import { formatVersion, PROTOCOL_VERSION, SUPPORTED_VERSIONS, VersionC, type Version } from "./version.js";
import { readableId } from "./wire/frame-id.js";
import { readMessagePack } from "./wire/reader.js";
import { encodeFrame } from "./wire/writer.js";

/** A decode failure; `id` is set when the frame's request id could be read, so the peer can answer it. */
export interface ProtocolError extends Failure {
  readonly id?: number;
}

export interface DecodeOptions {
  /** Frames larger than this are refused before any parsing (default 4 MiB, SPEC.md §6). */
  readonly maxFrameBytes?: number;
}

/**
 * Encodes a frame canonically (SPEC.md §3.2). The message is trusted to match its TypeScript
 * type (the receiver validates; a body holding something that is not a protocol value throws
 * ZkguestError malformed_frame). The result is a fresh Uint8Array owned by the caller.
 */
export function encode(message: Message): Uint8Array {
  return encodeFrame(message.kind, message.id, message.v, message.body as Record<string, unknown>);
}

/** Builds a frame of the current protocol version. */
export function frame<K extends Kind>(kind: K, id: number, body: Body<K>, v: Version = PROTOCOL_VERSION): Frame<K> {
  return { body, id, kind, v } as unknown as Frame<K>;
}

function reject(code: ErrorCode, message: string, id?: number): E.Either<ProtocolError, never> {
  return E.left(id === undefined ? failure(code, message) : { code, message, id });
}

/** The first io-ts error as `body.mode: expected ...`, a path a person can follow. */
export function describeValidationError(errors: t.Errors, root: string): string {
  const first = errors[0];
  if (!first) return `${root}: invalid`;
  const path = [root];
  for (const entry of first.context.slice(1)) {
    // Union and intersection members add numeric keys of their own: not part of the data's path.
    const parent = first.context[first.context.indexOf(entry) - 1]?.type;
    if (parent instanceof t.UnionType || parent instanceof t.IntersectionType) continue;
    if (entry.key !== "") path.push(entry.key);
  }
  const got = first.value === undefined ? "nothing" : describeValue(first.value);
  const expected = first.message ?? `expected ${first.context[first.context.length - 1]?.type.name ?? "a valid value"}`;
  return `${path.join(".")}: ${expected}, got ${got}`;
}

function describeValue(u: unknown): string {
  if (u instanceof Uint8Array) return `bytes(${u.length})`;
  if (Array.isArray(u)) return `an array of ${u.length}`;
  if (u === null) return "nil";
  if (typeof u === "object") return "a map";
  if (typeof u === "string") return JSON.stringify(u.length > 40 ? `${u.slice(0, 40)}...` : u);
  return String(u);
}

function isMap(u: unknown): u is Record<string, unknown> {
  return typeof u === "object" && u !== null && !Array.isArray(u) && !(u instanceof Uint8Array);
}

/**
 * Decodes and validates one frame. Never throws: any input gives either a message of a known
 * kind whose body matches its codec, or a ProtocolError with the code a peer must answer with
 * (frame_too_large, malformed_frame, unsupported_version, unknown_kind). Bytes in the result
 * are copies: the message never aliases `bytes`.
 */
export function decode(bytes: Uint8Array, options: DecodeOptions = {}): E.Either<ProtocolError, Message> {
  const maxFrameBytes = options.maxFrameBytes ?? DEFAULT_LIMITS.max_frame_bytes;
  if (bytes.length > maxFrameBytes) {
    return reject("frame_too_large", `frame is ${bytes.length} bytes, the limit is ${maxFrameBytes}`);
  }
  const read = readMessagePack(bytes);
  // A fault inside the value does not hide an id that can still be read (SPEC.md §3.4).
  if (!read.ok) return reject("malformed_frame", read.why, readableId(bytes));
  const raw = read.value;
  if (!isMap(raw)) return reject("malformed_frame", "a frame must be a map with keys v, id, kind, body");

  const id = IdC.is(raw.id) ? raw.id : undefined;
  if (id === undefined) return reject("malformed_frame", `id: expected a request id (0 .. 2^32-1), got ${describeValue(raw.id)}`);
  if (!VersionC.is(raw.v)) return reject("malformed_frame", `v: expected [major, minor], got ${describeValue(raw.v)}`, id);
  const v = raw.v;
  if (!SUPPORTED_VERSIONS.some(([major]) => major === v[0])) {
    const ours = SUPPORTED_VERSIONS.map(formatVersion).join(", ");
    return reject("unsupported_version", `frame is version ${formatVersion(v)}, this peer speaks ${ours}`, id);
  }
  const kind = raw.kind;
  if (typeof kind !== "string") return reject("malformed_frame", `kind: expected a string, got ${describeValue(kind)}`, id);
  if (!isKind(kind)) return reject("unknown_kind", `unknown message kind '${kind}'`, id);
  if (!isMap(raw.body)) return reject("malformed_frame", `${kind} body: expected a map, got ${describeValue(raw.body)}`, id);

  const body = (BODIES[kind] as t.Mixed).decode(raw.body);
  if (E.isLeft(body)) return reject("malformed_frame", `${kind} ${describeValidationError(body.left, "body")}`, id);

  const rule = (BODY_RULES[kind] as ((b: unknown) => string | undefined) | undefined)?.(body.right);
  if (rule !== undefined) return reject("malformed_frame", `${kind} body: ${rule}`, id);

  const float = read.floats.find((path) => floatRefusedAt(kind, path));
  if (float !== undefined) return reject("malformed_frame", `${kind} ${float.join(".")}: a float where an integer is required`, id);
  return E.right({ body: body.right, id, kind, v } as Message);
}
