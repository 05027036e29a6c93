import type { Fields, LogLevel } from "@zkguest/protocol";
import { GuestFailure } from "../engine/engine.js";
import { cutGuestText } from "../guest-text.js";
import type { FileRecord, LogRecord, Phase } from "../report.js";
import type { RunLimits } from "../run-limits.js";

/**
 * Where a phase's records are mirrored as they happen. The worker pool journals them in memory
 * shared with the main thread, so that a worker terminated in the middle of a phase (the hard
 * stop) does not take the guest's logs with it.
 */
export interface RecordSink {
  /** A log line; `frame` is the guest's `log` request it came from, when there is one. */
  log(record: LogRecord, frame?: Uint8Array): void;
  /** A file written: its size now, and the bytes this write stored. */
  file(record: FileRecord, written: number): void;
  fileRemoved(path: string): void;
  counters(hostCalls: number, peakMemoryBytes: number): void;
}

/** Error responses the host notes in the logs per phase; a flood of failing requests is summed up after that. */
export const MAX_HOST_NOTES = 100;

/**
 * What one phase leaves behind: logs (the guest's and the host's), files written, and the
 * counters its limits are checked against. Crossing `maxHostCalls` or `maxLogBytes` throws the
 * GuestFailure that ends the run.
 */
export class PhaseRecorder {
  readonly logs: LogRecord[] = [];
  private readonly files = new Map<string, number>();
  hostCalls = 0;
  logBytes = 0;
  bytesStored = 0;
  peakMemoryBytes = 0;
  private notes = 0;

  constructor(
    readonly phase: Phase,
    private readonly limits: RunLimits,
    private readonly sink?: RecordSink,
  ) {}

  /** Counts one guest request; the one past the limit ends the run. */
  hostCall(): void {
    if (++this.hostCalls > this.limits.maxHostCalls) {
      this.hostCalls = this.limits.maxHostCalls;
      throw GuestFailure.limitExceeded("host_calls", `the guest sent more than ${this.limits.maxHostCalls} requests in the ${this.phase} phase (max_host_calls)`);
    }
    this.sink?.counters(this.hostCalls, this.peakMemoryBytes);
  }

  /** Samples the guest's memory use. */
  memory(bytes: number): void {
    if (bytes > this.peakMemoryBytes) {
      this.peakMemoryBytes = bytes;
      this.sink?.counters(this.hostCalls, bytes);
    }
  }

  /** A line the guest logged; `size` counts against max_log_bytes, and the line that would cross it ends the run. */
  guestLog(level: LogLevel, message: string, fields: Fields | undefined, size: number, frame?: Uint8Array): void {
    if (this.logBytes + size > this.limits.maxLogBytes) {
      throw GuestFailure.limitExceeded(
        "log_bytes",
        `the guest logged more than ${this.limits.maxLogBytes} bytes in the ${this.phase} phase (max_log_bytes; ${this.logBytes} logged, the next line has ${size})`,
      );
    }
    this.logBytes += size;
    this.record({ phase: this.phase, source: "guest", level, message, ...(fields === undefined ? {} : { fields }) }, frame);
  }

  /**
   * What the host records about the guest: errors answered to its requests, which may quote
   * what it sent (a path, a map key), hence cut to MAX_GUEST_TEXT_BYTES.
   */
  hostLog(level: LogLevel, message: string, extra: { fields?: Fields; stack?: string } = {}): void {
    const stack = extra.stack === undefined ? {} : { stack: cutGuestText(extra.stack) };
    this.record({ phase: this.phase, source: "host", level, message: cutGuestText(message), ...extra, ...stack });
  }

  /**
   * Notes an error answered to one of the guest's requests, so that it shows in the report even
   * if the guest ignores it. Bounded: past MAX_HOST_NOTES they are only counted.
   */
  noteErrorResponse(kind: string, code: string, message: string, stack?: string): void {
    if (++this.notes > MAX_HOST_NOTES) return;
    // `internal` is a host bug, not the guest's doing: logged as an error, with where it happened.
    if (code === "internal") this.hostLog("error", `${kind} answered ${code}: ${message}`, stack === undefined ? {} : { stack });
    else this.hostLog("warn", `${kind} answered ${code}: ${message}`);
  }

  fileWritten(path: string, size: number, written: number): void {
    this.files.set(path, size);
    this.bytesStored += written;
    this.sink?.file({ path, bytes: size }, written);
  }

  fileRemoved(path: string): void {
    if (this.files.delete(path)) this.sink?.fileRemoved(path);
  }

  fileList(): FileRecord[] {
    return Array.from(this.files, ([path, bytes]) => ({ path, bytes }));
  }

  /** Ends the phase's records: the sum of the error responses not noted one by one. */
  finish(): void {
    if (this.notes > MAX_HOST_NOTES) this.hostLog("warn", `${this.notes - MAX_HOST_NOTES} more error responses were not logged one by one`);
  }

  /** Adds a log line (mirrored to the sink). */
  record(record: LogRecord, frame?: Uint8Array): void {
    this.logs.push(record);
    this.sink?.log(record, frame);
  }
}
