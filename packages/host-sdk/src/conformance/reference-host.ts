import {
  decode,
  encode,
  formatVersion,
  frame,
  PROTOCOL_VERSION,
  toHex,
  type Failure,
  type HostRequestKind,
  type Message,
  type Stat,
  type Value,
  type Version,
} from "@zkguest/protocol";
import { either as E } from "fp-ts";
import { GuestFailure, type HostCallHandler } from "../engine/engine.js";
import type { LogLine } from "./contract.js";

/** How the reference host answers the guest's file requests. */
export type FsPolicy =
  /** From a small in-memory disk, as a real host would. */
  | { readonly kind: "answer" }
  /** Every `fs.*` request gets `error` with this code (it may be one a later minor adds). */
  | { readonly kind: "fail"; readonly code: string };

/**
 * The guest kit's host side of one conversation: it answers the requests a guest sends while it
 * handles a host request, and notes every way the guest breaks the protocol. It is strict where
 * a host may be lenient, because it is checking the guest: every frame must decode under the
 * rules of SPEC.md §3.3 and be canonical (§3.2: re-encoding the decoded message gives the same
 * bytes), carry the agreed version, and number requests upwards from 1 (§2); `witness.ready` is
 * sent once, inside `witness.get`, and nothing is sent outside a host request.
 */
export class ReferenceHost {
  /** The host request the guest is handling; set by the driver around each one. */
  handling: HostRequestKind | "nothing" = "nothing";
  /** The version agreed in `hello`; the guest's frames must carry it. */
  version: Version = PROTOCOL_VERSION;
  /** The largest frame the guest may send (the `max_frame_bytes` announced in `hello`). */
  maxFrameBytes: number;
  /** Protocol breaches seen, one sentence each. */
  readonly problems: string[] = [];
  /** The guest's `log` requests. */
  readonly logs: LogLine[] = [];
  /** The kinds of the guest's `fs.*` requests, in order. */
  readonly fsRequests: string[] = [];
  /** `witness.ready` requests accepted (at most one per witness step). */
  witnessReady = 0;
  /** Requests the guest sent (frames that could be read). */
  requests = 0;
  private lastId = 0;
  private readonly files = new Map<string, Uint8Array>();

  constructor(
    maxFrameBytes: number,
    private readonly fs: FsPolicy = { kind: "answer" },
  ) {
    this.maxFrameBytes = maxFrameBytes;
  }

  readonly handler: HostCallHandler = (bytes) => {
    if (bytes.length > this.maxFrameBytes) {
      this.problems.push(`sent a ${bytes.length}-byte frame, over the max_frame_bytes of ${this.maxFrameBytes} announced in hello`);
      // Its id cannot be read without parsing it (SPEC.md §3.3): the conversation is over.
      throw new GuestFailure("guest_error", "the guest sent a frame over max_frame_bytes");
    }
    const decoded = decode(bytes, { maxFrameBytes: this.maxFrameBytes });
    if (decoded._tag === "Left") {
      const { id, code, message } = decoded.left;
      this.problems.push(`sent a frame the protocol refuses (${code}: ${message}): ${preview(bytes)}`);
      if (id === undefined) throw new GuestFailure("guest_error", `the guest sent a frame without a readable id: ${message}`);
      return this.respond(id, E.left({ code, message }));
    }
    const m = decoded.right;
    this.checkEnvelope(m, bytes);
    return this.respond(m.id, this.answer(m));
  };

  /** The checks every guest request gets: canonical bytes, the agreed version, an increasing id. */
  private checkEnvelope(m: Message, bytes: Uint8Array): void {
    const again = encode(m);
    if (!sameBytes(again, bytes)) {
      this.problems.push(`${m.kind} request ${m.id} is not canonical (SPEC.md §3.2): sent ${preview(bytes)}, canonical ${preview(again)}`);
    }
    if (m.v[0] !== this.version[0] || m.v[1] !== this.version[1]) {
      this.problems.push(`${m.kind} request ${m.id} carries version ${formatVersion(m.v)}, not the agreed ${formatVersion(this.version)}`);
    }
    // SPEC.md §2 numbers requests 1, 2, 3, ...; a gap is tolerated (a request refused before the
    // host read it, such as one over max_frame_bytes, may have used an id), a repeat or a step back is not.
    const wrapped = this.lastId === 0xffffffff && m.id >= 1;
    if (m.id <= this.lastId && !wrapped) {
      this.problems.push(this.lastId === 0 ? `its first request (${m.kind}) has id 0: request ids start at 1 (SPEC.md §2)` : `${m.kind} request has id ${m.id}, not above the previous request's ${this.lastId}`);
    }
    this.lastId = m.id;
    this.requests++;
  }

  private answer(m: Message): E.Either<Failure, Value> {
    if (this.handling === "nothing" || this.handling === "hello") {
      this.problems.push(`sent ${m.kind} while ${this.handling === "hello" ? "answering hello" : "handling no host request"}`);
      return E.left({ code: "invalid_state", message: `${m.kind}: the guest may send requests only while it handles witness.get or proof.result` });
    }
    switch (m.kind) {
      case "witness.ready":
        if (this.handling !== "witness.get") {
          this.problems.push(`sent witness.ready while handling ${this.handling}`);
          return E.left({ code: "invalid_state", message: "witness.ready is allowed only inside witness.get" });
        }
        if (++this.witnessReady > 1) {
          this.problems.push("sent witness.ready a second time in one witness step");
          return E.left({ code: "invalid_state", message: "witness.ready was already sent in this witness step" });
        }
        return E.right(null);
      case "log":
        this.logs.push({ level: m.body.level, message: m.body.message, ...(m.body.fields === undefined ? {} : { fields: m.body.fields }) });
        return E.right(null);
      case "fs.store":
      case "fs.read":
      case "fs.list":
      case "fs.stat":
      case "fs.remove":
      case "fs.mkdir":
        this.fsRequests.push(m.kind);
        if (this.fs.kind === "fail") return E.left({ code: this.fs.code, message: `the conformance host answers every file request with ${this.fs.code}` } as Failure);
        return this.disk(m);
      default:
        this.problems.push(`sent a ${m.kind} frame, which is not a guest request`);
        return E.left({ code: "invalid_state", message: `${m.kind} is not a request a guest sends` });
    }
  }

  /** A small in-memory disk: enough for a controller's ordinary requests to succeed. */
  private disk(m: Message): E.Either<Failure, Value> {
    const path = "path" in m.body && typeof m.body.path === "string" ? m.body.path.toUpperCase() : "/";
    const stat = (type: "file" | "dir", size: number): Stat & Value => ({ modified: "2024-01-01T00:00:00", name: path.split("/").pop() || "/", size, type });
    const file = this.files.get(path);
    const isDir = path === "/" || [...this.files.keys()].some((p) => p.startsWith(`${path}/`));
    const notFound: Failure = { code: "not_found", message: `${path}: no such file or directory` };
    switch (m.kind) {
      case "fs.store": {
        if (m.body.mode === "create" && file) return E.left({ code: "already_exists", message: `${path} exists` });
        const data = m.body.mode === "append" && file ? concat(file, m.body.data) : m.body.data.slice();
        this.files.set(path, data);
        return E.right(stat("file", data.length));
      }
      case "fs.read": {
        if (!file) return E.left(notFound);
        const from = m.body.offset ?? 0;
        return E.right(file.slice(from, m.body.length === undefined ? undefined : from + m.body.length));
      }
      case "fs.stat":
        return file ? E.right(stat("file", file.length)) : isDir ? E.right(stat("dir", 0)) : E.left(notFound);
      case "fs.list":
        return E.right([...this.files].filter(([p]) => p.slice(0, p.lastIndexOf("/")) === (path === "/" ? "" : path)).map(([p, d]) => ({ modified: "2024-01-01T00:00:00", name: p.split("/").pop()!, size: d.length, type: "file" })));
      case "fs.remove":
        return this.files.delete(path) || isDir ? E.right(null) : E.left(notFound);
      default:
        return E.right(null);
    }
  }

  private respond(id: number, result: E.Either<Failure, Value>): Uint8Array {
    return E.isLeft(result) ? encode(frame("error", id, result.left, this.version)) : encode(frame("ok", id, { value: result.right }, this.version));
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The first bytes of a frame in hex, for a detail line. */
export function preview(bytes: Uint8Array): string {
  const hex = toHex(bytes.subarray(0, 24));
  return bytes.length > 24 ? `${hex}... (${bytes.length} bytes)` : hex || "(empty)";
}
