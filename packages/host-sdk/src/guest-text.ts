/** The file name a JS guest's code has in its stack traces (`at f (guest.js:1:16658)`; source-map/ maps them). */
export const GUEST_FILE = "guest.js";

/**
 * The most bytes (UTF-8) the host keeps of one piece of text a guest supplies, other than its
 * `log` messages (which max_log_message_bytes bounds): an error's message and its stack, a
 * line it printed (console, stdout, stderr), the message of an error it answered with. Longer
 * text is cut where the host reads it out of the guest, so that the host never copies much
 * more than this, and its end says how much was cut.
 */
export const MAX_GUEST_TEXT_BYTES = 8 * 1024;

/**
 * The beginning of a guest's text, as read out of the guest (a few times MAX_GUEST_TEXT_BYTES
 * at most), and the length of the whole text in characters (UTF-16 units): `head.length` when
 * the head is all of it.
 */
export interface GuestText {
  readonly head: string;
  readonly length: number;
}

const whole = (text: string | GuestText): GuestText => (typeof text === "string" ? { head: text, length: text.length } : text);

/** Texts one after the other: what follows a text that is not whole is only counted. */
export function joinGuestText(...parts: (string | GuestText)[]): GuestText {
  let head = "";
  let length = 0;
  let complete = true;
  for (const part of parts.map(whole)) {
    if (complete) head += part.head;
    complete &&= part.head.length === part.length;
    length += part.length;
  }
  return { head, length };
}

/**
 * The text within MAX_GUEST_TEXT_BYTES, marker included: as it is when it is whole and fits,
 * else its beginning and ` … [cut: N more characters]`.
 */
export function cutGuestText(text: string | GuestText): string {
  const { head, length } = whole(text);
  // Four bytes at most per character: short text is measured only when it may not fit.
  if (length === head.length && (head.length * 4 <= MAX_GUEST_TEXT_BYTES || Buffer.byteLength(head, "utf8") <= MAX_GUEST_TEXT_BYTES)) return head;
  // Room for the marker with the largest count it can show.
  const room = MAX_GUEST_TEXT_BYTES - Buffer.byteLength(marker(length), "utf8");
  const bytes = Buffer.from(head.length > room ? head.slice(0, room) : head, "utf8");
  let end = Math.min(room, bytes.length);
  // Back to the start of a character: never half of one.
  while (end > 0 && end < bytes.length && (bytes[end]! & 0xc0) === 0x80) end--;
  const kept = bytes.toString("utf8", 0, end);
  return kept + marker(length - kept.length);
}

function marker(cut: number): string {
  return ` … [cut: ${cut} more characters]`;
}
