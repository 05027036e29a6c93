import { decode, encode, frame, PROTOCOL_VERSION, type Message, type Value } from "@zkguest/protocol";

// An in-process host for the SDK's unit tests: it defines __zkguest_call as a sandbox would,
// records the guest's requests, and drives the conversation through __zkguest_handle.

type Answer = { value: Value } | { code: string; message: string };

interface Transport {
  __zkguest_call?: (frame: ArrayBuffer) => ArrayBuffer;
  __zkguest_handle?: (frame: ArrayBuffer) => ArrayBuffer | Promise<ArrayBuffer>;
}
const g = globalThis as Transport;

export const LIMITS = { max_frame_bytes: 1 << 20, max_path_bytes: 255, max_log_message_bytes: 8192 };

export class FakeHost {
  readonly requests: Message[] = [];
  /** How to answer a request; the default answers ok with nil. */
  answer: (m: Message) => Answer = () => ({ value: null });
  private nextId = 1;

  constructor() {
    g.__zkguest_call = (bytes) => {
      const decoded = decode(new Uint8Array(bytes));
      if (decoded._tag === "Left") throw new Error(`the SDK sent a frame the reference refuses: ${decoded.left.message}`);
      const m = decoded.right;
      this.requests.push(m);
      const a = this.answer(m);
      const out = "value" in a ? encode(frame("ok", m.id, a)) : encode(frame("error", m.id, a as never));
      return out.slice().buffer;
    };
  }

  /** Sends raw bytes to the guest and decodes its answer. */
  async sendBytes(bytes: Uint8Array): Promise<Message> {
    const answer = await g.__zkguest_handle!(bytes.slice().buffer);
    const decoded = decode(new Uint8Array(answer));
    if (decoded._tag === "Left") throw new Error(`the SDK answered with a frame the reference refuses: ${decoded.left.message}`);
    return decoded.right;
  }

  send(kind: "hello" | "witness.get" | "proof.result", body: unknown): Promise<Message> {
    return this.sendBytes(encode(frame(kind, this.nextId++, body as never)));
  }

  hello(offer: [number, number][] = [[...PROTOCOL_VERSION]], limits = LIMITS): Promise<Message> {
    return this.send("hello", { offer, host: "fake-host/0", limits });
  }

  kinds(): string[] {
    return this.requests.map((m) => m.kind);
  }
}
