/**
 * TextEncoder and TextDecoder for the guest (QuickJS has neither): UTF-8 only, as the WHATWG
 * Encoding Standard defines them. The decoder is the standard's UTF-8 decoder, byte by byte, so
 * that what it replaces with U+FFFD (each maximal invalid subpart), what it refuses when `fatal`,
 * the BOM it drops (the first code point of a stream, unless `ignoreBOM`) and what `stream: true`
 * holds back are Node's; a property test checks it against Node's own TextDecoder.
 *
 * Like the prelude, it is written as a function so that it is type-checked, and sent as its
 * source text: it must not refer to anything outside itself. The prelude compiles it when the
 * guest first reads either global (see quickjs-prelude.ts).
 */
export function textCodecs(): { TextEncoder: unknown; TextDecoder: unknown } {
  const REPLACEMENT = 0xfffd;
  /** Code units per String.fromCharCode call: well under QuickJS's argument limit. */
  const CHUNK = 4096;
  const LABELS = ["unicode-1-1-utf-8", "unicode11utf8", "unicode20utf8", "utf-8", "utf8", "x-unicode20utf8"];

  const bytesOf = (input: unknown): Uint8Array => {
    if (input === undefined) return new Uint8Array(0);
    if (input instanceof ArrayBuffer) return new Uint8Array(input);
    if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    throw new TypeError("The \"input\" argument must be an ArrayBuffer or an ArrayBufferView");
  };

  class TextEncoder {
    get encoding(): string {
      return "utf-8";
    }

    encode(input: unknown = ""): Uint8Array {
      const s = String(input);
      const out = new Uint8Array(this.#length(s));
      this.#write(s, out);
      return out;
    }

    encodeInto(input: unknown, dest: Uint8Array): { read: number; written: number } {
      if (!(dest instanceof Uint8Array)) throw new TypeError("The \"dest\" argument must be a Uint8Array");
      return this.#write(String(input), dest);
    }

    #length(s: string): number {
      let n = 0;
      for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c < 0x80) n += 1;
        else if (c < 0x800) n += 2;
        else if (c >= 0xd800 && c <= 0xdbff && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
          n += 4;
          i++;
        } else n += 3;
      }
      return n;
    }

    /** Writes whole code points of `s` while they fit; a lone surrogate is written as U+FFFD. */
    #write(s: string, out: Uint8Array): { read: number; written: number } {
      let at = 0;
      let i = 0;
      for (; i < s.length; i++) {
        let c = s.charCodeAt(i);
        let units = 1;
        if (c >= 0xd800 && c <= 0xdfff) {
          const next = s.charCodeAt(i + 1);
          if (c <= 0xdbff && (next & 0xfc00) === 0xdc00) {
            c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
            units = 2;
          } else c = REPLACEMENT;
        }
        const size = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
        if (at + size > out.length) break;
        if (size === 1) out[at++] = c;
        else {
          const shift = 6 * (size - 1);
          out[at++] = ((0xf00 >> size) & 0xff) | (c >> shift);
          for (let s6 = shift - 6; s6 >= 0; s6 -= 6) out[at++] = 0x80 | ((c >> s6) & 0x3f);
        }
        i += units - 1;
      }
      return { read: i, written: at };
    }
  }

  class TextDecoder {
    readonly #fatal: boolean;
    readonly #ignoreBOM: boolean;
    /** The standard's UTF-8 decoder state and "do not flush" flag, kept between calls with { stream: true }. */
    #state = { needed: 0, seen: 0, codePoint: 0, lower: 0x80, upper: 0xbf, bomSeen: false };
    #doNotFlush = false;

    constructor(label: unknown = "utf-8", options: { fatal?: unknown; ignoreBOM?: unknown } = {}) {
      const name = String(label).trim().toLowerCase();
      if (!LABELS.includes(name)) throw new RangeError(`The "${String(label)}" encoding is not supported (this sandbox decodes UTF-8 only)`);
      this.#fatal = Boolean(options?.fatal);
      this.#ignoreBOM = Boolean(options?.ignoreBOM);
    }

    get encoding(): string {
      return "utf-8";
    }

    get fatal(): boolean {
      return this.#fatal;
    }

    get ignoreBOM(): boolean {
      return this.#ignoreBOM;
    }

    decode(input?: unknown, options: { stream?: unknown } = {}): string {
      const bytes = bytesOf(input);
      if (!this.#doNotFlush) this.#state = { needed: 0, seen: 0, codePoint: 0, lower: 0x80, upper: 0xbf, bomSeen: false };
      this.#doNotFlush = Boolean(options?.stream);
      // The state in locals while the loop runs (QuickJS reads them much faster than fields).
      let { needed, seen, codePoint, lower, upper, bomSeen } = this.#state;
      const fatal = this.#fatal;
      const ignoreBOM = this.#ignoreBOM;
      const parts: string[] = [];
      let units: number[] = [];
      const emit = (c: number) => {
        if (!bomSeen) {
          bomSeen = true;
          if (c === 0xfeff && !ignoreBOM) return;
        }
        if (c < 0x10000) units.push(c);
        else units.push(0xd800 + ((c - 0x10000) >> 10), 0xdc00 + ((c - 0x10000) & 0x3ff));
        if (units.length >= CHUNK) {
          parts.push(String.fromCharCode(...units));
          units = [];
        }
      };
      const error = () => {
        needed = seen = codePoint = 0;
        lower = 0x80;
        upper = 0xbf;
        if (fatal) {
          // The stream ends with the error: the next call starts a new one.
          this.#doNotFlush = false;
          throw new TypeError("The encoded data was not valid for encoding utf-8");
        }
        emit(REPLACEMENT);
      };
      for (let i = 0; i < bytes.length; i++) {
        const byte = bytes[i]!;
        if (needed === 0) {
          if (byte <= 0x7f) emit(byte);
          else if (byte >= 0xc2 && byte <= 0xdf) {
            needed = 1;
            codePoint = byte & 0x1f;
          } else if (byte >= 0xe0 && byte <= 0xef) {
            if (byte === 0xe0) lower = 0xa0;
            if (byte === 0xed) upper = 0x9f;
            needed = 2;
            codePoint = byte & 0xf;
          } else if (byte >= 0xf0 && byte <= 0xf4) {
            if (byte === 0xf0) lower = 0x90;
            if (byte === 0xf4) upper = 0x8f;
            needed = 3;
            codePoint = byte & 0x7;
          } else error();
          continue;
        }
        if (byte < lower || byte > upper) {
          // The byte ends an invalid sequence and is read again as the start of the next.
          error();
          i--;
          continue;
        }
        lower = 0x80;
        upper = 0xbf;
        codePoint = (codePoint << 6) | (byte & 0x3f);
        if (++seen === needed) {
          const c = codePoint;
          needed = seen = codePoint = 0;
          emit(c);
        }
      }
      // At the end of the stream, an unfinished sequence is one error.
      if (!this.#doNotFlush && needed !== 0) error();
      this.#state = { needed, seen, codePoint, lower, upper, bomSeen };
      parts.push(String.fromCharCode(...units));
      return parts.join("");
    }
  }

  return { TextEncoder, TextDecoder };
}
