import { decode as decodeMsgpack } from "@msgpack/msgpack";
import { decode, type LogEntry } from "@zkguest/protocol";
import { either as E } from "fp-ts";
import { closeSync, fstatSync, openSync, readSync, unlinkSync, writeSync, writevSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { canonicalEncode } from "../canonical.js";
import type { FileRecord, LogRecord, Phase } from "../report.js";
import type { RecordSink } from "../session/recorder.js";

/**
 * A sandbox's phase journal, in a file that the host process and its sandbox process share by
 * descriptor (created and unlinked at once by the host, so nothing is left behind whatever
 * happens to either). The sandbox writes each log line and file as the session records it, and
 * its state and counters; the host reads the state to time the phase (the watchdog) and, if it
 * has to kill the sandbox, reads back what the phase recorded until then: a guest stopped by
 * force, or a sandbox that died, keeps its logs.
 *
 * Why a file and not shared memory: the sandbox is another process (a guest must never be able
 * to bring the host down with it), and a file's pages are what two Node processes can share.
 * Each write is one positional write into the page cache; what a killed process wrote is there.
 *
 * Layout: a header (state, write offset, records dropped, host calls, job, phase start time,
 * peak memory, bytes stored) and then records `[type u8][length u32 LE][payload]`. Only the
 * sandbox writes. A record is written before the header that counts it, so a reader never sees
 * a record half-written.
 */
const STATE = 0;
const OFFSET = 1;
const DROPPED = 2;
const HOST_CALLS = 3;
/** The job the journal is about (the pool's sequence number). */
const SEQ = 4;
/** Float64 slots (indices into a Float64Array over the header). */
const STARTED_AT = 3;
const PEAK_MEMORY = 4;
const BYTES_STORED = 5;
const HEADER_BYTES = 48;
const RECORD_HEADER = 5;
/** Counters alone (host calls, memory samples) are written at most this often: a host call must stay cheap. */
const COUNTERS_EVERY_MS = 2;

const enum RecordType {
  /** The guest's `log` request frame, as it came. */
  GuestLogFrame = 1,
  /** Any other log line, MessagePack. */
  Log = 2,
  /** A file written, MessagePack {path, bytes}. */
  File = 3,
  /** A file removed: its path, UTF-8. */
  FileRemoved = 4,
}

/** What the sandbox is doing, as the watchdog sees it. */
export const enum JournalState {
  Idle = 0,
  /** Loading the engine or compiling the guest: not the guest's time yet. */
  Loading = 1,
  /** Running the guest: its time limit runs from `startedAt`. */
  Running = 2,
}

/** Milliseconds on a clock that every process on the machine shares (wall-clock based). */
export function sharedNow(): number {
  return performance.timeOrigin + performance.now();
}

/** A new journal file for one sandbox: its descriptor, already unlinked. The caller closes it. */
export function createJournalFile(): number {
  const file = path.join(tmpdir(), `zkguest-journal-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const fd = openSync(file, "wx+", 0o600);
  unlinkSync(file);
  return fd;
}

class JournalHeader {
  protected readonly header = new Int32Array(HEADER_BYTES / 4);
  protected readonly floats = new Float64Array(this.header.buffer);
  protected readonly headerBytes = new Uint8Array(this.header.buffer);
}

/** The sandbox's side: a RecordSink that journals, and the phase's state for the watchdog. */
export class JournalWriter extends JournalHeader implements RecordSink {
  /** Journal bytes past the header. */
  private readonly capacity: number;
  private flushedAt = 0;
  private readonly recordHeader = new Uint8Array(RECORD_HEADER);
  private readonly recordLength = new DataView(this.recordHeader.buffer);

  constructor(
    private readonly fd: number,
    capacity: number,
  ) {
    super();
    this.capacity = capacity;
  }

  /** Starts job `seq`: empty journal, loading. */
  begin(seq: number): void {
    this.header.fill(0);
    this.header[STATE] = JournalState.Loading;
    this.header[SEQ] = seq;
    this.flush();
  }

  /** The guest starts running: its clock starts now. */
  running(): void {
    this.floats[STARTED_AT] = sharedNow();
    this.header[STATE] = JournalState.Running;
    this.flush();
  }

  idle(): void {
    this.header[STATE] = JournalState.Idle;
    this.flush();
  }

  log(record: LogRecord, frame?: Uint8Array): void {
    if (frame !== undefined && record.source === "guest") this.append(RecordType.GuestLogFrame, frame);
    else this.append(RecordType.Log, canonicalEncode(record));
  }

  file(record: FileRecord, written: number): void {
    this.floats[BYTES_STORED] = this.floats[BYTES_STORED]! + written;
    this.append(RecordType.File, canonicalEncode(record));
  }

  fileRemoved(path: string): void {
    this.append(RecordType.FileRemoved, new TextEncoder().encode(path));
  }

  counters(hostCalls: number, peakMemoryBytes: number): void {
    this.header[HOST_CALLS] = hostCalls;
    this.floats[PEAK_MEMORY] = peakMemoryBytes;
    if (performance.now() - this.flushedAt >= COUNTERS_EVERY_MS) this.flush();
  }

  private append(type: RecordType, payload: Uint8Array): void {
    const offset = this.header[OFFSET]!;
    if (offset + RECORD_HEADER + payload.length > this.capacity) {
      this.header[DROPPED]!++;
      this.flush();
      return;
    }
    this.recordHeader[0] = type;
    this.recordLength.setUint32(1, payload.length, true);
    writevSync(this.fd, [this.recordHeader, payload], HEADER_BYTES + offset);
    // The offset is published last: a reader never sees a record half-written.
    this.header[OFFSET] = offset + RECORD_HEADER + payload.length;
    this.flush();
  }

  private flush(): void {
    writeSync(this.fd, this.headerBytes, 0, HEADER_BYTES, 0);
    this.flushedAt = performance.now();
  }
}

/** What a journal holds about the phase that was cut short. */
export interface Recovered {
  readonly logs: LogRecord[];
  readonly files: FileRecord[];
  readonly hostCalls: number;
  readonly peakMemoryBytes: number;
  readonly bytesStored: number;
  /** Records that did not fit in the journal. */
  readonly dropped: number;
}

/** The host's side. */
export class JournalReader extends JournalHeader {
  constructor(private readonly fd: number) {
    super();
  }

  /** Reads the header as the sandbox last wrote it. */
  refresh(): this {
    if (readSync(this.fd, this.headerBytes, 0, HEADER_BYTES, 0) < HEADER_BYTES) this.header.fill(0);
    return this;
  }

  get state(): JournalState {
    return this.header[STATE]!;
  }

  get startedAt(): number {
    return this.floats[STARTED_AT]!;
  }

  /** The job the sandbox has begun last. */
  get seq(): number {
    return this.header[SEQ]!;
  }

  /** The phase's records, read back after its sandbox was killed or died. */
  recover(phase: Phase): Recovered {
    this.refresh();
    const end = Math.min(this.header[OFFSET]!, Math.max(0, fstatSync(this.fd).size - HEADER_BYTES));
    const bytes = new Uint8Array(end);
    if (end > 0) readSync(this.fd, bytes, 0, end, HEADER_BYTES);
    const view = new DataView(bytes.buffer);
    const logs: LogRecord[] = [];
    const files = new Map<string, number>();
    for (let offset = 0; offset + RECORD_HEADER <= end; ) {
      const type = bytes[offset] as RecordType;
      const length = view.getUint32(offset + 1, true);
      const payload = bytes.subarray(offset + RECORD_HEADER, offset + RECORD_HEADER + length);
      offset += RECORD_HEADER + length;
      switch (type) {
        case RecordType.GuestLogFrame: {
          const m = decode(payload);
          if (E.isRight(m) && m.right.kind === "log") logs.push(guestLog(phase, m.right.body));
          break;
        }
        case RecordType.Log:
          logs.push(decodeMsgpack(payload) as LogRecord);
          break;
        case RecordType.File: {
          const file = decodeMsgpack(payload) as FileRecord;
          files.set(file.path, file.bytes);
          break;
        }
        case RecordType.FileRemoved:
          files.delete(new TextDecoder().decode(payload));
          break;
      }
    }
    return {
      logs,
      files: Array.from(files, ([path, bytes]) => ({ path, bytes })),
      hostCalls: this.header[HOST_CALLS]!,
      peakMemoryBytes: this.floats[PEAK_MEMORY]!,
      bytesStored: this.floats[BYTES_STORED]!,
      dropped: this.header[DROPPED]!,
    };
  }

  close(): void {
    closeSync(this.fd);
  }
}

function guestLog(phase: Phase, { level, message, fields }: LogEntry): LogRecord {
  return { phase, source: "guest", level, message, ...(fields === undefined ? {} : { fields }) };
}
