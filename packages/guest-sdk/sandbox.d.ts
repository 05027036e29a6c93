/**
 * The globals of the JavaScript sandbox a zkguest controller runs in (SPEC.md §11), besides
 * ECMAScript's own: for a controller's tsconfig, with `"lib": ["ES2022"]` and
 * `"types": ["@zkguest/guest-sdk/sandbox"]` in place of Node's or the DOM's types, so that what
 * the sandbox lacks (Buffer, process, require, setTimeout, fetch, document) is a compile error
 * instead of a failure at run time. The hash functions are imported from "@zkguest/guest-sdk"
 * (sha256, keccak256), not globals.
 */

/** UTF-8 only (WHATWG Encoding Standard). */
declare var TextEncoder: {
  prototype: TextEncoder;
  new (): TextEncoder;
};
interface TextEncoder {
  readonly encoding: "utf-8";
  /** The UTF-8 bytes of `input`; a lone surrogate becomes U+FFFD. */
  encode(input?: string): Uint8Array<ArrayBuffer>;
  /** Writes the whole code points of `source` that fit into `destination`. */
  encodeInto(source: string, destination: Uint8Array): TextEncoderEncodeIntoResult;
}
interface TextEncoderEncodeIntoResult {
  /** UTF-16 code units of the source read. */
  read: number;
  /** Bytes written. */
  written: number;
}

/** UTF-8 only (WHATWG Encoding Standard): any other label throws a RangeError. */
declare var TextDecoder: {
  prototype: TextDecoder;
  new (label?: "utf-8" | "utf8" | "unicode-1-1-utf-8", options?: TextDecoderOptions): TextDecoder;
};
interface TextDecoder {
  readonly encoding: "utf-8";
  readonly fatal: boolean;
  readonly ignoreBOM: boolean;
  /** The text in `input`: invalid bytes become U+FFFD, or throw a TypeError when `fatal`. */
  decode(input?: ArrayBuffer | ArrayBufferView, options?: TextDecodeOptions): string;
}
interface TextDecoderOptions {
  /** Throw a TypeError on invalid UTF-8 instead of replacing it with U+FFFD. */
  fatal?: boolean;
  /** Keep a leading byte order mark (U+FEFF) in the text instead of dropping it. */
  ignoreBOM?: boolean;
}
interface TextDecodeOptions {
  /** More input follows: an incomplete sequence at the end is kept for the next call. */
  stream?: boolean;
}

/**
 * Lines the host shows as the run's console output (not part of its logs): each argument as
 * a string, or its JSON. warn and error are shown as warnings.
 */
declare var console: Console;
interface Console {
  log(...data: unknown[]): void;
  info(...data: unknown[]): void;
  debug(...data: unknown[]): void;
  warn(...data: unknown[]): void;
  error(...data: unknown[]): void;
}
