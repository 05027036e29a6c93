import {
  decode,
  DEFAULT_LIMITS,
  encode,
  formatVersion,
  frame,
  HelloReplyC,
  PROTOCOL_VERSION,
  type Body,
  type HostRequestKind,
  type Limits,
  type Message,
  type Value,
  type Version,
} from "@zkguest/protocol";
import { DEFAULT_ENGINE_LIMITS, GuestFailure, type GuestInstance, type LimitName, type LoadedGuest } from "../engine/engine.js";
import { preview, ReferenceHost, sameBytes, type FsPolicy } from "./reference-host.js";

/** How the guest answered one host request. */
export type Reply =
  | { readonly kind: "ok"; readonly id: number; readonly v: Version; readonly value: Value }
  | { readonly kind: "error"; readonly id: number; readonly v: Version; readonly code: string; readonly message: string }
  /** The guest threw, trapped, exited or crossed a limit (named by `limit`); the instance is gone. */
  | { readonly kind: "failed"; readonly message: string; readonly limit?: LimitName }
  /** Its answer is not a response the protocol allows (undecodable, another kind). */
  | { readonly kind: "broken"; readonly message: string };

export interface ConversationOptions {
  /** The `max_frame_bytes` announced in hello; the engine enforces the same (default 4 MiB). */
  readonly maxFrameBytes?: number;
  /** How file requests are answered (default: from an in-memory disk). */
  readonly fs?: FsPolicy;
  /** Wall-clock limit of each host request, ms (default 5 s). */
  readonly timeMs?: number;
}

/**
 * One conversation between the guest kit's reference host and a fresh instance of the guest,
 * through the engine contract. Host requests are numbered 1, 2, 3, ...; every answer is read
 * strictly (SPEC.md §3.3), and one that is not canonical, or that carries another version than
 * the one agreed, is noted in `host.problems`.
 */
export class Conversation {
  readonly host: ReferenceHost;
  private readonly instance: GuestInstance | undefined;
  /** Why the guest could not even be instantiated. */
  readonly startFailure: string | undefined;
  private nextId = 1;

  constructor(guest: LoadedGuest, options: ConversationOptions = {}) {
    const maxFrameBytes = options.maxFrameBytes ?? DEFAULT_LIMITS.max_frame_bytes;
    this.host = new ReferenceHost(maxFrameBytes, options.fs);
    let instance: GuestInstance | undefined;
    let startFailure: string | undefined;
    try {
      instance = guest.instantiate(this.host.handler, { ...DEFAULT_ENGINE_LIMITS, timeMs: options.timeMs ?? DEFAULT_ENGINE_LIMITS.timeMs, maxFrameBytes });
    } catch (e) {
      startFailure = messageOf(e);
    }
    this.instance = instance;
    this.startFailure = startFailure;
  }

  /** The limits hello announces: the defaults, with this conversation's max_frame_bytes. */
  limits(): Limits {
    return { ...DEFAULT_LIMITS, max_frame_bytes: this.host.maxFrameBytes };
  }

  /** `hello` offering `offer`, written in its lowest version (SPEC.md §8); on `ok`, the chosen version is agreed. */
  hello(offer: readonly Version[], extra: { envelope?: Record<string, Value>; body?: Record<string, Value>; limits?: Record<string, Value> } = {}): Reply {
    const lowest = [...offer].sort((a, b) => a[0] - b[0] || a[1] - b[1])[0] ?? PROTOCOL_VERSION;
    const body = { host: "zkguest-conformance/1", limits: { ...this.limits(), ...extra.limits }, offer: [...offer], ...extra.body };
    const bytes = encode({ ...(frame("hello", this.nextId, body as Body<"hello">, lowest) as Message), ...extra.envelope } as Message);
    const reply = this.send(bytes, "hello");
    if (reply.kind === "ok") {
      const chosen = HelloReplyC.decode(reply.value);
      if (chosen._tag === "Right") this.host.version = chosen.right.version;
    }
    return reply;
  }

  /** A host request of `kind`, written canonically in the agreed version. */
  request<K extends HostRequestKind>(kind: K, body: Body<K>): Reply {
    return this.send(encode(frame(kind, this.nextId, body, this.host.version) as Message), kind);
  }

  /** The next host request id (what `send` will expect the answer to carry when the frame's id cannot be read). */
  get requestId(): number {
    return this.nextId;
  }

  /**
   * Gives the guest one host request frame, as bytes (vectors and hand-made frames too), while
   * the reference host treats the guest as handling `handling`.
   */
  send(bytes: Uint8Array, handling: HostRequestKind): Reply {
    this.nextId++;
    if (this.instance === undefined) return { kind: "failed", message: `the guest could not start: ${this.startFailure}` };
    this.host.handling = handling;
    let answer: Uint8Array;
    try {
      answer = this.instance.handle(bytes);
    } catch (e) {
      const limit = e instanceof GuestFailure ? e.limit : undefined;
      return { kind: "failed", message: messageOf(e), ...(limit === undefined ? {} : { limit }) };
    } finally {
      this.host.handling = "nothing";
    }
    return this.read(answer, handling);
  }

  private read(bytes: Uint8Array, handling: HostRequestKind): Reply {
    const decoded = decode(bytes, { maxFrameBytes: this.host.maxFrameBytes });
    if (decoded._tag === "Left") return { kind: "broken", message: `its answer to ${handling} is refused (${decoded.left.code}: ${decoded.left.message}): ${preview(bytes)}` };
    const m = decoded.right;
    if (m.kind !== "ok" && m.kind !== "error") return { kind: "broken", message: `it answered ${handling} with a ${m.kind} frame` };
    if (!sameBytes(encode(m), bytes)) this.host.problems.push(`its ${m.kind} answer to ${handling} is not canonical: ${preview(bytes)}`);
    // The answer to hello carries the chosen version, or the guest's own when it refuses (SPEC.md §8).
    const agreed = handling === "hello" ? (m.kind === "ok" ? HelloReplyC.decode(m.body.value) : undefined) : undefined;
    const expected = handling === "hello" ? (agreed?._tag === "Right" ? agreed.right.version : undefined) : this.host.version;
    if (expected && (m.v[0] !== expected[0] || m.v[1] !== expected[1])) {
      this.host.problems.push(`its answer to ${handling} carries version ${formatVersion(m.v)}, not ${formatVersion(expected)}`);
    }
    return m.kind === "ok" ? { kind: "ok", id: m.id, v: m.v, value: m.body.value } : { kind: "error", id: m.id, v: m.v, code: m.body.code, message: m.body.message };
  }

  dispose(): void {
    try {
      this.instance?.dispose();
    } catch {
      // A guest that fails on the way out has already been judged by what it answered.
    }
  }
}

/** A reply in a few words, for a detail line. */
export function describeReply(r: Reply): string {
  switch (r.kind) {
    case "ok":
      return `ok ${r.value === null ? "nil" : JSON.stringify(r.value, (_k, v: unknown) => (v instanceof Uint8Array ? `bytes(${v.length})` : v))}`;
    case "error":
      return `error ${r.code}: ${r.message}`;
    case "failed":
      return `the guest failed: ${r.message}`;
    case "broken":
      return r.message;
  }
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
