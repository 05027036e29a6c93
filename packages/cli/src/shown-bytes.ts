/**
 * Bytes as a report shows them: `text` when they are UTF-8 text a terminal shows as it is, else
 * `hex` (lower-case). The key says which, in JSON and in print.
 */
export type ShownBytes = { readonly text: string } | { readonly hex: string };

/** Controls that make bytes binary rather than text: C0 but tab, new line and carriage return; DEL; C1. */
const BINARY_CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;

/** Strict UTF-8 that keeps a byte order mark: text it accepts encodes back to the same bytes. */
const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The text `bytes` hold, or undefined when they are not valid UTF-8 or hold a control character that is not tab or a line break. */
export function textOf(bytes: Uint8Array): string | undefined {
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    return undefined;
  }
  return BINARY_CONTROL.test(text) ? undefined : text;
}

export function showBytes(bytes: Uint8Array): ShownBytes {
  const text = textOf(bytes);
  return text !== undefined ? { text } : { hex: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex") };
}
