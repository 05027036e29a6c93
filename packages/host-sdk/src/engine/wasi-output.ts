import { cutGuestText } from "../guest-text.js";
import { GuestFailure } from "./engine.js";

/** One line the guest wrote to stdout (`info`) or stderr (`warn`). */
export interface OutputLine {
  level: "info" | "warn";
  message: string;
}

/**
 * Output bytes held between two drains, at most. Only a bound on what the engine buffers: the
 * run's log budget (max_log_bytes) is the driver's to enforce on the drained lines.
 */
export const MAX_PENDING_OUTPUT_BYTES = 1024 * 1024;

const NEWLINE = 0x0a;
const text = new TextDecoder("utf-8"); // invalid UTF-8 becomes U+FFFD: output is for people

/**
 * Collects what a guest writes to stdout and stderr as log lines. A line ends at `\n`; an
 * unfinished line is kept until it ends or the output is drained.
 */
export class GuestOutput {
  private readonly lines: OutputLine[] = [];
  private readonly partial: Record<OutputLine["level"], Uint8Array[]> = { info: [], warn: [] };
  private pendingBytes = 0;

  write(level: OutputLine["level"], bytes: Uint8Array): void {
    this.pendingBytes += bytes.length;
    if (this.pendingBytes > MAX_PENDING_OUTPUT_BYTES) {
      throw GuestFailure.limitExceeded(
        "log_bytes",
        `the guest wrote more than ${MAX_PENDING_OUTPUT_BYTES} bytes to stdout and stderr in one call`,
      );
    }
    let start = 0;
    for (let nl = bytes.indexOf(NEWLINE); nl !== -1; nl = bytes.indexOf(NEWLINE, start)) {
      this.partial[level].push(bytes.subarray(start, nl));
      this.endLine(level);
      start = nl + 1;
    }
    if (start < bytes.length) this.partial[level].push(bytes.slice(start));
  }

  /** The lines written since the last drain, unfinished lines included. */
  drain(): OutputLine[] {
    for (const level of ["info", "warn"] as const) if (this.partial[level].length > 0) this.endLine(level);
    this.pendingBytes = 0;
    return this.lines.splice(0);
  }

  private endLine(level: OutputLine["level"]): void {
    const parts = this.partial[level].splice(0);
    this.lines.push({ level, message: cutGuestText(text.decode(Buffer.concat(parts))) });
  }
}
