import { expect } from "chai";
import fc from "fast-check";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { createHash } from "node:crypto";
import type { EngineLimits } from "../src/engine/engine.js";
import { QuickJsEngine, type QuickJsInstance } from "../src/engine/quickjs.js";
import { DIGEST_SLICE_BYTES } from "../src/engine/guest-digest.js";
import { bundleSource, failureOf, LIMITS, rawGuest, start } from "./quickjs-helpers.js";

// What the JS sandbox offers beyond ECMAScript (SPEC.md §11.1): TextEncoder and TextDecoder,
// checked against Node's own, and the host's hash functions, bounded by the run's limits.

/** JSON with every non-ASCII character escaped: it crosses the transport as Latin-1 bytes either way. */
const ASCII_JSON = `const asciiJson = (v) => JSON.stringify(v).replace(/[\\u0080-\\uffff]/g, (c) => "\\\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));`;

/** A guest whose __zkguest_handle runs `fn` (source of a function of the request's JSON) and answers its result as JSON. */
function jsonGuest(engine: QuickJsEngine, fn: string, limits: EngineLimits = LIMITS): QuickJsInstance {
  const source = `${ASCII_JSON}
    const fn = ${fn};
    globalThis.__zkguest_handle = (frame) => Uint8Array.from(asciiJson(fn(JSON.parse(String.fromCharCode(...new Uint8Array(frame))))), (c) => c.charCodeAt(0)).buffer;`;
  return engine.load(rawGuest(source)).instantiate(() => new Uint8Array(0), limits) as QuickJsInstance;
}

function ask(instance: QuickJsInstance, request: unknown): unknown {
  const text = JSON.stringify(request).replace(/[\u0080-\uffff]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
  return JSON.parse(Buffer.from(instance.handle(Uint8Array.from(text, (c) => c.charCodeAt(0)))).toString("latin1"));
}

/**
 * Decodes `chunks` with one decoder (stream: true but for the last), as the guest's and Node's
 * TextDecoder both run it, up to a fatal error: what a decoder does after one is left open by
 * the standard, and Node's differs from call to call (it keeps or drops the BOM state).
 */
const DECODE_CHUNKS = `({ fatal, ignoreBOM, chunks }) => {
  const decoder = new TextDecoder("utf-8", { fatal, ignoreBOM });
  const texts = [];
  for (let i = 0; i < chunks.length; i++) {
    try {
      texts.push(decoder.decode(new Uint8Array(chunks[i]), { stream: i < chunks.length - 1 }));
    } catch (e) {
      texts.push("!" + e.name);
      break;
    }
  }
  return texts;
}`;
const decodeChunks = (0, eval)(DECODE_CHUNKS) as (c: { fatal: boolean; ignoreBOM: boolean; chunks: number[][] }) => string[];

/** Bytes that stress a UTF-8 decoder: boundaries of every sequence length, BOMs, surrogates, truncations. */
const utf8ish = fc
  .array(
    fc.oneof(
      fc.string({ unit: "binary", maxLength: 6 }).map((s) => [...Buffer.from(s, "utf8")]),
      fc.constantFrom([0xef, 0xbb, 0xbf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xc0, 0xaf], [0xe0, 0x80, 0xaf], [0xf0, 0x8f, 0xbf, 0xbf]),
      fc.array(fc.constantFrom(0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff), { maxLength: 4 }),
    ),
    { maxLength: 12 },
  )
  .map((parts) => parts.flat());

describe("QuickJS engine: the sandbox's globals", function () {
  this.timeout(30_000);
  let engine: QuickJsEngine;
  before(async () => {
    engine = await QuickJsEngine.create();
  });
  afterEach(() => engine.ready());

  describe("TextDecoder", () => {
    let guest: QuickJsInstance;
    before(() => {
      guest = jsonGuest(engine, DECODE_CHUNKS);
    });
    after(() => guest.dispose());

    it("decodes as Node's TextDecoder does: replacement characters, fatal errors, BOMs, streaming in chunks", () => {
      fc.assert(
        fc.property(utf8ish, fc.array(fc.nat(), { maxLength: 4 }), fc.boolean(), fc.boolean(), (bytes, cuts, fatal, ignoreBOM) => {
          const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
          const chunks = [0, ...at].map((from, i) => bytes.slice(from, [...at, bytes.length][i]));
          const request = { fatal, ignoreBOM, chunks };
          expect(ask(guest, request)).to.deep.equal(decodeChunks(request));
        }),
        { numRuns: 1000 },
      );
    });

    it("decodes any view of the bytes, long texts included, and says what it is", () => {
      const instance = jsonGuest(
        engine,
        `({ text }) => {
          const bytes = new TextEncoder().encode(text);
          const d = new TextDecoder(" UTF8 ");
          const labels = ["utf-16le", "latin1", "nope"].map((l) => { try { new TextDecoder(l); return "accepted"; } catch (e) { return e.name; } });
          const framed = new Uint8Array(bytes.length + 4);
          framed.set(bytes, 2);
          return {
            same: d.decode(bytes) === text && d.decode(bytes.buffer) === text && d.decode(new DataView(framed.buffer, 2, bytes.length)) === text && d.decode(framed.subarray(2, -2)) === text,
            empty: [d.decode(), d.decode(new Uint8Array(0))],
            props: [d.encoding, d.fatal, d.ignoreBOM, new TextDecoder("utf-8", { fatal: 1, ignoreBOM: "yes" }).fatal, new TextEncoder().encoding],
            labels,
            notBytes: (() => { try { d.decode("text"); } catch (e) { return e.name; } })(),
          };
        }`,
      );
      try {
        // Longer than the decoder's chunk of code units, with astral characters across chunk ends.
        const text = "ab\u00e9\u{1f600}".repeat(3000);
        expect(ask(instance, { text })).to.deep.equal({
          same: true,
          empty: ["", ""],
          props: ["utf-8", false, false, true, "utf-8"],
          labels: ["RangeError", "RangeError", "RangeError"],
          notBytes: "TypeError",
        });
      } finally {
        instance.dispose();
      }
    });
  });

  it("compiles the codecs when the guest first reads one, keeping a global the guest assigned first", () => {
    const instance = jsonGuest(
      engine,
      `() => {
        const before = Object.getOwnPropertyNames(globalThis).filter((n) => n.startsWith("Text"));
        TextDecoder = "the guest's";
        const encoder = typeof TextEncoder;
        Function = null;
        return { before, encoder, decoder: TextDecoder, again: typeof TextEncoder, bytes: Array.from(new TextEncoder().encode("\u00e9")) };
      }`,
    );
    try {
      expect(ask(instance, {})).to.deep.equal({ before: ["TextEncoder", "TextDecoder"], encoder: "function", decoder: "the guest's", again: "function", bytes: [0xc3, 0xa9] });
    } finally {
      instance.dispose();
    }
  });

  describe("TextEncoder", () => {
    let guest: QuickJsInstance;
    before(() => {
      guest = jsonGuest(
        engine,
        `({ text, room }) => {
          const dest = new Uint8Array(room);
          const result = new TextEncoder().encodeInto(text, dest);
          return { bytes: Array.from(new TextEncoder().encode(text)), into: result, written: Array.from(dest.subarray(0, result.written)) };
        }`,
      );
    });
    after(() => guest.dispose());

    it("encodes as Node's TextEncoder does, lone surrogates as U+FFFD, and encodeInto writes whole characters that fit", () => {
      const node = new TextEncoder();
      fc.assert(
        fc.property(fc.string({ unit: "binary", maxLength: 40 }), fc.nat({ max: 64 }), (text, room) => {
          const dest = new Uint8Array(room);
          const into = node.encodeInto(text, dest);
          expect(ask(guest, { text, room })).to.deep.equal({ bytes: [...node.encode(text)], into, written: [...dest.subarray(0, into.written)] });
        }),
        { numRuns: 500 },
      );
    });
  });

  describe("hashing (sha256, keccak256 from @zkguest/guest-sdk)", () => {
    let hashGuest: QuickJsInstance;
    before(async () => {
      const code = await bundleSource(`import { keccak256, sha256, serve, defineController } from "@zkguest/guest-sdk";
        ${ASCII_JSON}
        const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
        globalThis.__zkguest_handle = (frame) => {
          const { size, offset, text } = JSON.parse(String.fromCharCode(...new Uint8Array(frame)));
          const buffer = new Uint8Array(size + offset + 3);
          for (let i = 0; i < buffer.length; i++) buffer[i] = (i * 31 + 7) & 0xff;
          const bytes = offset === 0 && buffer.length === size ? buffer : buffer.subarray(offset, offset + size);
          const out = { sha256: hex(sha256(bytes)), keccak256: hex(keccak256(bytes)), text: [hex(sha256(text)), hex(keccak256(text))] };
          return Uint8Array.from(asciiJson(out), (c) => c.charCodeAt(0)).buffer;
        };`);
      hashGuest = engine.load(code).instantiate(() => new Uint8Array(0), LIMITS) as QuickJsInstance;
    });
    after(() => hashGuest.dispose());

    it("gives node:crypto's SHA-256 and Ethereum's Keccak-256 (not SHA3-256) of whole buffers, views and strings (as UTF-8)", () => {
      const keccakOfEmpty = "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470";
      for (const size of [0, 1, 32, 135, 136, 137, DIGEST_SLICE_BYTES - 1, DIGEST_SLICE_BYTES, 3 * DIGEST_SLICE_BYTES + 5]) {
        for (const offset of [0, 1]) {
          const buffer = Uint8Array.from({ length: size + offset + 3 }, (_, i) => (i * 31 + 7) & 0xff);
          const bytes = buffer.subarray(offset, offset + size);
          const text = "h\u00e9\u{1f600} " + size;
          const got = ask(hashGuest, { size, offset, text }) as Record<string, unknown>;
          expect(got, `${size} bytes at ${offset}`).to.deep.equal({
            sha256: createHash("sha256").update(bytes).digest("hex"),
            keccak256: Buffer.from(keccak_256(bytes)).toString("hex"),
            text: [createHash("sha256").update(text).digest("hex"), Buffer.from(keccak_256(Buffer.from(text))).toString("hex")],
          });
          if (size === 0) expect(got["keccak256"]).to.equal(keccakOfEmpty).and.not.equal(createHash("sha3-256").digest("hex"));
        }
      }
    });

    it("refuses what is not an ArrayBuffer, as a TypeError in the guest", () => {
      const instance = jsonGuest(engine, `() => [[], [1], ["text"], [new Uint8Array(2)]].map((args) => { try { __zkguest_sha256(...args); return "hashed"; } catch (e) { return e.name + ": " + e.message; } })`);
      try {
        expect(ask(instance, {})).to.deep.equal(Array(4).fill("TypeError: __zkguest_sha256 takes one ArrayBuffer"));
      } finally {
        instance.dispose();
      }
    });

    it("stops a guest that hashes past its time limit within a slice of its deadline, even inside one call", () => {
      const size = 8 * 1024 * 1024;
      // What one call costs the host here and now (the machine may be loaded): far more than the limit.
      const started = performance.now();
      keccak_256(new Uint8Array(size));
      const oneCall = performance.now() - started;
      // The deadline falls inside the first call (the buffer's allocation and copy take less).
      const limits = { ...LIMITS, timeMs: Math.round(oneCall / 2), memoryBytes: 64 * 1024 * 1024 };
      const instance = jsonGuest(engine, `() => { const big = new ArrayBuffer(${size}); for (;;) __zkguest_keccak256(big); }`, limits);
      try {
        const t0 = performance.now();
        const failure = failureOf(() => ask(instance, {}));
        const took = performance.now() - t0;
        expect([failure.code, failure.limit]).to.deep.equal(["limit_exceeded", "time"]);
        // Past the deadline by a slice, not by the rest of the call.
        expect(took, `one call takes ${oneCall.toFixed(0)} ms`).to.be.below(limits.timeMs + oneCall / 3);
      } finally {
        instance.dispose();
      }
    });

    it("counts the copy of the hashed bytes against the guest's memory limit", async () => {
      // 24 MiB fit in the limit; with the copy the host hashes, they do not.
      const limits = { ...LIMITS, memoryBytes: 32 * 1024 * 1024 };
      const run = (hash: boolean) => {
        const instance = jsonGuest(engine, `() => { const big = new ArrayBuffer(24 * 1024 * 1024); new Uint8Array(big).fill(1); return ${hash} ? Array.from(new Uint8Array(__zkguest_sha256(big))) : big.byteLength; }`, limits);
        try {
          return ask(instance, {});
        } finally {
          instance.dispose();
        }
      };
      expect(run(false)).to.equal(24 * 1024 * 1024);
      // The run grew the module's memory: the engine retired it.
      await engine.ready();
      const failure = failureOf(() => run(true));
      expect([failure.code, failure.limit]).to.deep.equal(["limit_exceeded", "memory"]);
    });
  });

  describe("hashing, on a snapshot", () => {
    it("is pure: a guest that hashes while it is evaluated still gets a snapshot, and the same digests on every run", async () => {
      const code = await bundleSource(`import { defineController, serve, sha256, encodeUtf8 } from "@zkguest/guest-sdk";
        const ROOT = sha256("root");
        serve(defineController({ getWitnesses: () => [{ type: "data", data: ROOT }], entrypoint: () => {} }));`);
      const guest = engine.load(code);
      const witnesses = [0, 1].map(() => {
        const { host, conversation } = start(guest);
        conversation.hello();
        conversation.witnessGet(null);
        conversation.instance.dispose();
        return host.requests.find((m) => m.kind === "witness.ready")!.body;
      });
      expect(guest.retainedBytes, "a snapshot is kept").to.be.above(code.length * 2);
      expect(witnesses[1]).to.deep.equal(witnesses[0]);
      expect(witnesses[0]).to.deep.equal({ witnesses: [{ type: "data", data: new Uint8Array(createHash("sha256").update("root").digest()) }] });
    });
  });
});
