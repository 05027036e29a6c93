import {
  DEFAULT_LIMITS,
  PROTOCOL_VERSION,
  ZkguestError,
  negotiate,
  type ErrorCode,
  type GuestRequestKind,
  type Limits,
  type Value,
  type Version,
  type Witness,
} from "@zkguest/protocol/core";
import type { Carriable, Controller } from "./controller.js";
import { array, bin, int, map, name, nil, str, writeFrame, writeFrameEndingIn } from "@zkguest/protocol/wire";
import { isOkNil, readFrame, type Incoming } from "./incoming.js";

/** The SDK's name and version, sent in the answer to `hello`. */
export const GUEST_SDK = "zkguest-guest-sdk/0.1.0";

/** The JavaScript transport of SPEC.md §11: the globals the host and the guest define. */
interface TransportGlobals {
  __zkguest_call?: (frame: ArrayBuffer) => ArrayBuffer;
  __zkguest_handle?: (frame: ArrayBuffer) => ArrayBuffer | Promise<ArrayBuffer>;
}
const transport = globalThis as TransportGlobals;

/**
 * Where the conversation is (SPEC.md §2): before `hello`; refused (no common version, so the
 * guest does nothing else); between host requests; or inside one of the two steps, the only
 * time the guest may send requests of its own.
 */
type Phase = "new" | "refused" | "idle" | "witness" | "entrypoint";

type HelloBody = Extract<Incoming, { kind: "hello" }>["body"];
type ProofBody = Extract<Incoming, { kind: "proof.result" }>["body"];

/** The guest side of one conversation: answers the host's requests and sends the guest's own. */
export class GuestSession {
  #phase: Phase = "new";
  #version: Version = PROTOCOL_VERSION;
  /** The version agreed in `hello` (this side's own before it). */
  get version(): Version {
    return this.#version;
  }

  /** What the host announced in `hello`; the defaults before it. */
  limits: Limits = DEFAULT_LIMITS;
  #nextId = 1;
  /** The witnesses sent with `witness.ready` during the current witness step. */
  #sent: readonly Witness[] | undefined;

  #controller: Controller<Value>;

  constructor(controller: Controller<Value>) {
    this.#controller = controller;
  }

  /** Handles one host request frame and gives the response frame (`__zkguest_handle`). */
  handle(buffer: ArrayBuffer): ArrayBuffer | Promise<ArrayBuffer> {
    const read = readFrame(new Uint8Array(buffer), this.limits.max_frame_bytes);
    if (!read.ok) {
      const { id, code, message } = read.refusal;
      // Without a readable id the error answers id 0, which no request has (SPEC.md §3.4): the host then ends the run.
      return this.#error(id ?? 0, code, message);
    }
    const f = read.frame;
    switch (f.kind) {
      case "hello":
        return this.#hello(f.id, f.body);
      case "witness.get":
        return this.#step(f.id, "witness", () => this.#controller.getWitnesses(f.body.args), (returned) => this.#witnessesDone(f.id, returned));
      case "proof.result":
        return this.#step(f.id, "entrypoint", () => this.#controller.entrypoint(proofResult(f.body)), () => this.#ok(f.id));
      default:
        return this.#error(f.id, "invalid_state", `${f.kind === "guest-request" ? f.name : f.kind} is not a request a host sends to a guest`);
    }
  }

  #hello(id: number, body: HelloBody): ArrayBuffer {
    if (this.#phase !== "new") return this.#error(id, "invalid_state", "hello was already answered");
    const chosen = negotiate(body.offer);
    if (chosen._tag === "Left") {
      this.#phase = "refused";
      return this.#error(id, chosen.left.code, chosen.left.message);
    }
    this.#phase = "idle";
    this.#version = chosen.right;
    this.limits = body.limits;
    // The answer to hello carries the chosen version (SPEC.md §8).
    return writeFrame("ok", id, chosen.right, 1, () => {
      name("value");
      map(2);
      name("guest");
      str(GUEST_SDK);
      name("version");
      array(2);
      int(chosen.right[0]);
      int(chosen.right[1]);
    });
  }

  /**
   * Runs one step (the controller's getWitnesses or entrypoint), sync or async, and answers with
   * `done`'s frame. An exception from the controller is not answered: it escapes to the host,
   * which reports it as guest_error with its message and stack (SPEC.md §11).
   */
  #step<T>(id: number, phase: "witness" | "entrypoint", run: () => T | Promise<T>, done: (value: T) => ArrayBuffer): ArrayBuffer | Promise<ArrayBuffer> {
    if (this.#phase !== "idle") {
      const why = this.#phase === "new" ? "hello must be the first request" : this.#phase === "refused" ? "the handshake found no common version" : `the ${this.#phase} step is still running`;
      return this.#error(id, "invalid_state", why);
    }
    this.#phase = phase;
    this.#sent = undefined;
    const finish = (value: T) => {
      const frame = done(value);
      this.#phase = "idle";
      return frame;
    };
    // A ZkguestError the controller let through (a host error from fs.*, say) is answered as an
    // `error` carrying its code: the host learns the code, as SPEC.md §2 and CONFORMANCE.md §1.3
    // ask. Any other exception escapes: the host reports it as guest_error with its stack.
    const refuse = (e: unknown): ArrayBuffer => {
      this.#phase = "idle";
      if (e instanceof ZkguestError) return this.#error(id, e.code, e.message);
      throw e;
    };
    let result: T | Promise<T>;
    try {
      result = run();
    } catch (e) {
      return refuse(e);
    }
    return isThenable(result) ? Promise.resolve(result).then(finish, refuse) : finish(result as T);
  }

  #witnessesDone(id: number, returned: readonly Witness[] | void): ArrayBuffer {
    if (returned !== undefined && this.#sent === undefined) this.ready(returned);
    else if (returned !== undefined && returned !== this.#sent) {
      return this.#error(id, "invalid_state", "getWitnesses returned witnesses other than those it sent with ready()");
    }
    if (this.#sent === undefined) return this.#error(id, "invalid_state", "getWitnesses ended without calling ready() or returning the witnesses");
    return this.#ok(id);
  }

  /** Sends `witness.ready`: once per witness step. */
  ready(witnesses: readonly Witness[]): void {
    if (this.#phase !== "witness") throw new ZkguestError("invalid_state", "ready() is only allowed inside getWitnesses");
    if (this.#sent !== undefined) throw new ZkguestError("invalid_state", "ready() was already called in this witness step");
    if (!Array.isArray(witnesses)) throw new ZkguestError("malformed_frame", "ready(): witnesses must be an array");
    this.request("witness.ready", 1, () => {
      name("witnesses");
      array(witnesses.length);
      witnesses.forEach(writeWitness);
    });
    this.#sent = witnesses;
  }

  /**
   * Sends one guest request and returns the `ok` value; an `error` answer throws a ZkguestError
   * with its code. `writeBody` writes the body's `fields` fields, in canonical order.
   */
  request(kind: GuestRequestKind, fields: number, writeBody: () => void): Value {
    const call = this.#host(kind);
    const id = this.#takeId();
    return this.#exchange(kind, id, writeFrame(kind, id, this.#version, fields, writeBody), call);
  }

  /**
   * Sends a request whose body ends with a string, from the frame's encoded start (see
   * writeFrameEndingIn): the log's path, which makes far fewer calls inside QuickJS.
   */
  requestEndingIn(kind: GuestRequestKind, start: Uint8Array, text: string): Value {
    const call = this.#host(kind);
    const id = this.#takeId();
    return this.#exchange(kind, id, writeFrameEndingIn(start, text, id, kind, this.#version), call);
  }

  /** The transport's call, if a request may be sent now. */
  #host(kind: GuestRequestKind): (frame: ArrayBuffer) => ArrayBuffer {
    if (this.#phase !== "witness" && this.#phase !== "entrypoint") {
      throw new ZkguestError("invalid_state", `${kind} outside a host request: the SDK's calls work inside getWitnesses and entrypoint`);
    }
    const call = transport.__zkguest_call;
    if (typeof call !== "function") throw new ZkguestError("invalid_state", "no host: __zkguest_call is not defined (a guest runs inside a zkguest sandbox)");
    return call;
  }

  #takeId(): number {
    const id = this.#nextId;
    this.#nextId = id === 0xffffffff ? 1 : id + 1;
    return id;
  }

  /** Sends the request frame and reads the answer: its `ok` value, or the `error` it carries, thrown. */
  #exchange(kind: GuestRequestKind, id: number, frame: ArrayBuffer, call: (frame: ArrayBuffer) => ArrayBuffer): Value {
    const max = this.limits.max_frame_bytes;
    if (frame.byteLength > max) throw new ZkguestError("frame_too_large", `the ${kind} frame is ${frame.byteLength} bytes, the host's limit is ${max}`);
    const answer = call(frame);
    if (isOkNil(answer, id, this.#version)) return null;
    const read = readFrame(new Uint8Array(answer), max);
    if (!read.ok) throw new ZkguestError(read.refusal.code, `the host's answer to ${kind}: ${read.refusal.message}`);
    const r = read.frame;
    if (r.kind === "error" && r.id === id) throw new ZkguestError(r.body.code, r.body.message);
    if (r.kind !== "ok" || r.id !== id) throw new ZkguestError("malformed_frame", `expected the answer to ${kind} request ${id}, got ${r.kind} ${r.id}`);
    return r.body.value;
  }

  #ok(id: number): ArrayBuffer {
    return writeFrame("ok", id, this.#version, 1, () => {
      name("value");
      nil();
    });
  }

  #error(id: number, code: ErrorCode, message: string): ArrayBuffer {
    return writeFrame("error", id, this.#version, 2, () => {
      name("code");
      name(code);
      name("message");
      str(message);
    });
  }
}

function isThenable(u: unknown): u is PromiseLike<unknown> {
  return typeof (u as PromiseLike<unknown> | undefined)?.then === "function";
}

function proofResult(b: ProofBody) {
  return { success: b.success, proof: b.proof, args: b.args, logs: b.logs, error: b.error, ...(b.stage === undefined ? {} : { stage: b.stage }) };
}

/** One witness (SPEC.md §4.2), its fields in canonical order. */
function writeWitness(x: Witness, i: number): void {
  const bad = (why: string) => new ZkguestError("malformed_frame", `witnesses[${i}]: ${why}`);
  const field = (field: string, isOk: (u: unknown) => boolean, expected: string) => {
    const v = (x as unknown as Record<string, unknown>)[field];
    if (!isOk(v)) throw bad(`${field} must be ${expected}`);
    name(field);
    if (typeof v === "string") str(v);
    else bin(v as Uint8Array);
  };
  const isBytes = (u: unknown) => u instanceof Uint8Array;
  if (x?.type === "data") {
    map(2);
    field("data", isBytes, "a Uint8Array");
  } else if (x?.type === "state_proof") {
    map(5);
    field("domain", (u) => typeof u === "string", "a string");
    for (const part of ["payload", "proof", "root"]) field(part, isBytes, "a Uint8Array");
  } else {
    throw bad(`type must be "data" or "state_proof"`);
  }
  name("type");
  name(x.type);
}

let active: GuestSession | undefined;

/** The session serving the controller; the SDK's helpers send their requests through it. */
export function activeSession(): GuestSession {
  if (!active) throw new ZkguestError("invalid_state", "no controller is being served: the guest's entry must call serve(controller)");
  return active;
}

/**
 * Makes this guest serve `controller`: defines `__zkguest_handle` (SPEC.md §11) for a new
 * conversation. A guest bundle's entry does this once, after importing the controller module;
 * `guestEntrySource` in `@zkguest/guest-sdk/bundle` writes that entry.
 */
export function serve<A extends Carriable<A>>(controller: Controller<A>): void {
  const session = new GuestSession(controller as unknown as Controller<Value>);
  active = session;
  transport.__zkguest_handle = (frame) => session.handle(frame);
}
