import * as esbuild from "esbuild";
import { GUEST_BUNDLE_OPTIONS, guestEntrySource } from "@zkguest/guest-sdk/bundle";
import { decode, encode, frame, PROTOCOL_VERSION, type Message, type Stat, type Value } from "@zkguest/protocol";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "chai";
import { DEFAULT_ENGINE_LIMITS, GuestFailure, type EngineLimits, type GuestInstance } from "../src/engine/engine.js";
import type { QuickJsGuest } from "../src/engine/quickjs.js";

// Shared by the quickjs*.test.ts files: bundling guests with the SDK, a host that answers the
// guest's requests from memory, and the host side of a conversation.

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..");

/** Bundles a controller module (a path from the repository root) with the SDK, as `zkguest build` does. */
export async function bundleController(controllerPath: string): Promise<Uint8Array> {
  return bundle(guestEntrySource(`./${controllerPath}`), "ts");
}

/** Bundles guest source written inline (it imports from "@zkguest/guest-sdk" and calls serve itself). */
export async function bundleSource(source: string, options: { minify?: boolean } = {}): Promise<Uint8Array> {
  return bundle(source, "ts", options);
}

async function bundle(contents: string, loader: esbuild.Loader, options: { minify?: boolean } = {}): Promise<Uint8Array> {
  const out = await esbuild.build({ ...GUEST_BUNDLE_OPTIONS, ...options, stdin: { contents, resolveDir: repoRoot, loader }, write: false, logLevel: "silent" });
  return out.outputFiles![0]!.contents;
}

export const utf8 = (s: string) => new TextEncoder().encode(s);

/** A host that records the guest's requests and answers them from an in-memory disk. */
export class TestHost {
  readonly requests: Message[] = [];
  readonly files = new Map<string, Uint8Array>();
  /** Answers `error` with this code instead of `ok` for requests of this kind. */
  failing = new Map<string, string>();

  readonly handler = (bytes: Uint8Array): Uint8Array => {
    const decoded = decode(bytes);
    if (decoded._tag === "Left") {
      const { code, message, id } = decoded.left;
      return encode(frame("error", id ?? 0, { code, message }));
    }
    const m = decoded.right;
    this.requests.push(m);
    const failure = this.failing.get(m.kind);
    if (failure) return encode(frame("error", m.id, { code: failure, message: `${m.kind} failed on purpose` } as never));
    return encode(frame("ok", m.id, { value: this.answer(m) }));
  };

  private answer(m: Message): Value {
    const stat = (p: string): Stat => ({ name: p.split("/").pop()!.toUpperCase(), type: "file", size: this.files.get(p)?.length ?? 0, modified: "2024-01-01T00:00:00" });
    switch (m.kind) {
      case "fs.store": {
        const old = m.body.mode === "append" ? (this.files.get(m.body.path) ?? new Uint8Array(0)) : new Uint8Array(0);
        const next = new Uint8Array(old.length + m.body.data.length);
        next.set(old);
        next.set(m.body.data, old.length);
        this.files.set(m.body.path, next);
        return stat(m.body.path) as unknown as Value;
      }
      case "fs.read": {
        const data = this.files.get(m.body.path) ?? new Uint8Array(0);
        const from = m.body.offset ?? 0;
        return data.slice(from, m.body.length === undefined ? undefined : from + m.body.length);
      }
      case "fs.stat":
        return stat(m.body.path) as unknown as Value;
      case "fs.list":
        return [...this.files.keys()].map(stat) as unknown as Value;
      default:
        return null;
    }
  }

  logs(): string[] {
    return this.requests.flatMap((m) => (m.kind === "log" ? [`${m.body.level}: ${m.body.message}`] : []));
  }
}

export const LIMITS: EngineLimits = { ...DEFAULT_ENGINE_LIMITS, timeMs: 2000, memoryBytes: 32 * 1024 * 1024 };

/** The host side of a conversation with one instance. */
export class Conversation {
  private nextId = 1;
  constructor(readonly instance: GuestInstance) {}

  /** Sends one host request and returns the guest's decoded response. */
  send(kind: "hello" | "witness.get" | "proof.result", body: unknown): Message {
    const response = decode(this.instance.handle(encode(frame(kind, this.nextId++, body as never))));
    if (response._tag === "Left") throw new Error(`the guest's response was refused: ${response.left.code}: ${response.left.message}`);
    return response.right;
  }

  hello(offer: [number, number][] = [[...PROTOCOL_VERSION]]): Message {
    return this.send("hello", { offer, host: "test-host/0", limits: { max_frame_bytes: 1 << 20, max_path_bytes: 255, max_log_message_bytes: 8192 } });
  }

  witnessGet(args: Value): Message {
    return this.send("witness.get", { args });
  }

  proofResult(body: { success: boolean; args: Value; proof?: Uint8Array; error?: { code: string; message: string } }): Message {
    return this.send("proof.result", { logs: [], ...body });
  }
}

/** A guest whose whole source is `body` (no SDK): for hostile guests that speak the transport directly. */
export function rawGuest(body: string): Uint8Array {
  return utf8(body);
}

/** Instantiates `guest` with a fresh TestHost and says hello. */
export function start(guest: QuickJsGuest, limits: EngineLimits = LIMITS): { host: TestHost; conversation: Conversation } {
  const host = new TestHost();
  const conversation = new Conversation(guest.instantiate(host.handler, limits));
  return { host, conversation };
}

/** Runs `fn`, which must throw a GuestFailure, and returns it. */
export function failureOf(fn: () => unknown): GuestFailure {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(GuestFailure);
    return e as GuestFailure;
  }
  throw new Error("expected a GuestFailure");
}
