import { fail, ok, type Result } from "./result.js";

/** An 8.3 name as stored: 8 bytes of name and 3 of extension, space padded, upper-case. */
export type ShortName = Uint8Array;

const MAX_BASE = 8;
const MAX_EXT = 3;
/** Besides letters and digits, the characters SPEC.md §4.4 (and every FAT driver) accepts in a short name. */
const PUNCTUATION = "!#$%&'()-@^_`{}~";
const ALLOWED = "A-Z, a-z, 0-9 and ! # $ % & ' ( ) - @ ^ _ ` { } ~";

function isAllowed(ch: string): boolean {
  return /^[A-Za-z0-9]$/.test(ch) || PUNCTUATION.includes(ch);
}

/** How a refused character appears in a message: printable ones quoted, others as a code point. */
function show(ch: string): string {
  const cp = ch.codePointAt(0)!;
  return cp < 0x20 || cp === 0x7f ? `U+${cp.toString(16).toUpperCase().padStart(4, "0")}` : `'${ch}'`;
}

/**
 * Validates one path component as an 8.3 short name and encodes it to the 11 stored bytes.
 * Letters are stored upper-case (the FAT rule, which makes lookups case-insensitive); nothing
 * else is ever changed: a name that does not fit is refused with the rule it broke.
 */
export function parseShortName(component: string): Result<ShortName> {
  const bad = (rule: string): Result<ShortName> => fail("invalid_name", `${component}: ${rule}`);
  for (const ch of component) {
    if (ch === ".") continue;
    if (ch === " ") return bad("space is not allowed in a FAT-16 short name");
    if (!isAllowed(ch)) return bad(`character ${show(ch)} is not allowed in a FAT-16 short name (allowed: ${ALLOWED})`);
  }
  const dot = component.indexOf(".");
  if (dot !== component.lastIndexOf(".")) return bad("more than one '.'; an 8.3 name has at most one, before the extension");
  const base = dot < 0 ? component : component.slice(0, dot);
  const ext = dot < 0 ? "" : component.slice(dot + 1);
  if (base.length === 0) return bad("the name before the '.' is empty; FAT-16 needs 1 to 8 characters");
  if (base.length > MAX_BASE) return bad(`name '${base}' has ${base.length} characters, FAT-16 allows ${MAX_BASE}`);
  if (dot >= 0 && ext.length === 0) return bad("the extension after the '.' is empty; leave out the '.' or give 1 to 3 characters");
  if (ext.length > MAX_EXT) return bad(`extension '${ext}' has ${ext.length} characters, FAT-16 allows ${MAX_EXT}`);
  const out = new Uint8Array(11).fill(0x20);
  for (let i = 0; i < base.length; i++) out[i] = upper(base.charCodeAt(i));
  for (let i = 0; i < ext.length; i++) out[8 + i] = upper(ext.charCodeAt(i));
  return ok(out);
}

const upper = (c: number): number => (c >= 0x61 && c <= 0x7a ? c - 0x20 : c);

/**
 * The name index key of the 11 bytes at `offset`: the bytes with ASCII letters folded to upper
 * case, as a string. Names other tools stored in lower case (against the rule) are still found.
 */
export function nameKey(bytes: Uint8Array, offset = 0): string {
  let key = "";
  for (let i = 0; i < 11; i++) key += String.fromCharCode(upper(bytes[offset + i]!));
  return key;
}

/** Code page 437, which DOS, mtools and Linux use by default for bytes 0x80..0xFF of short names. */
const CP437_HIGH =
  "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0";

function decodeByte(b: number): string {
  return b < 0x80 ? String.fromCharCode(b) : CP437_HIGH[b - 0x80]!;
}

/** The stored name at `offset` for display, e.g. "PROOF.BIN" (a leading 0x05 stands for 0xE5). */
export function displayName(bytes: Uint8Array, offset = 0): string {
  let base = "";
  let ext = "";
  for (let i = 0; i < 8; i++) base += decodeByte(i === 0 && bytes[offset] === 0x05 ? 0xe5 : bytes[offset + i]!);
  for (let i = 8; i < 11; i++) ext += decodeByte(bytes[offset + i]!);
  base = base.trimEnd();
  ext = ext.trimEnd();
  return ext ? `${base}.${ext}` : base;
}

/** Whether the stored bytes contain something our own writer would never store (for the check). */
export function storedNameFlaw(bytes: Uint8Array, offset = 0): string | undefined {
  if (bytes[offset] === 0x20) return "starts with a space";
  for (let i = 0; i < 11; i++) {
    const b = bytes[offset + i]!;
    if (b >= 0x61 && b <= 0x7a) return "has lower-case letters (short names are stored upper-case)";
    if (i === 0 && b === 0x05) continue; // stands for a leading 0xE5
    if (b < 0x80 && b !== 0x20 && !isAllowed(String.fromCharCode(b))) return `has the illegal byte 0x${b.toString(16).padStart(2, "0")}`;
  }
  return undefined;
}

/**
 * Validates a volume label (BS_VolLab and the root's label entry): 1 to 11 of the short-name
 * characters, spaces allowed inside; stored upper-case and space padded like a short name.
 */
export function parseVolumeLabel(label: string): Result<ShortName> {
  const bad = (rule: string): Result<ShortName> => fail("invalid_name", `label '${label}': ${rule}`);
  if (label.length === 0) return bad("is empty; leave the label out instead");
  if (label.length > 11) return bad(`has ${label.length} characters, FAT-16 allows 11`);
  if (label.startsWith(" ")) return bad("starts with a space");
  for (const ch of label) {
    if (ch !== " " && !isAllowed(ch)) return bad(`character ${show(ch)} is not allowed (allowed: ${ALLOWED} and space)`);
  }
  const out = new Uint8Array(11).fill(0x20);
  for (let i = 0; i < label.length; i++) out[i] = upper(label.charCodeAt(i));
  return ok(out);
}
