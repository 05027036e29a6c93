import { decode as decodeMsgpack } from "@msgpack/msgpack";
import { decode, type LogEntry } from "@zkguest/protocol";
import { either as E } from "fp-ts";
import { canonicalEncode } from "../canonical.js";
import type { FileRecord, LogRecord, Phase } from "../report.js";
import type { RecordSink } from "../session/recorder.js";

/**
 * A worker's phase journal, in memory shared with the main thread. The worker writes each log
 * line and file as the session records it, and its state and counters; the main thread reads
 * the state to time the phase (the watchdog) and, if it has to terminate the worker, reads back
 * what the phase recorded until then: a guest stopped by force keeps its logs.
 *
 * Layout: a header (state, write offset, records dropped, host calls, job, phase start time,
 * peak memory, bytes stored) and then records `[type u8][length u32 LE][payload]`. Only one thread writes; the
 * reader reads only after the writer has stopped (terminated) or between phases.
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

/** What the worker is doing, as the watchdog sees it. */
export const enum JournalState {
  Idle = 0,
  /** Loading the engine or compiling the guest: not the guest's time yet. */
  Loading = 1,
  /** Running the guest: its time limit runs from `startedAt`. */
  Running = 2,
}

/** Milliseconds on a clock that every thread of the process shares. */
export function sharedNow(): number {
  return performance.timeOrigin + performance.now();
}

export function createJournalBuffer(bytes: number): SharedArrayBuffer {
  return new SharedArrayBuffer(HEADER_BYTES + bytes);
}

class JournalView {
  protected readonly header: Int32Array;
  protected readonly floats: Float64Array;
  protected readonly bytes: Uint8Array;
  protected readonly view: DataView;

  constructor(buffer: SharedArrayBuffer) {
    this.header = new Int32Array(buffer, 0, 5);
    this.floats = new Float64Array(buffer, 0, HEADER_BYTES / 8);
    this.bytes = new Uint8Array(buffer, HEADER_BYTES);
    this.view = new DataView(buffer, HEADER_BYTES);
  }

  get state(): JournalState {
    return Atomics.load(this.header, STATE);
  }

  get startedAt(): number {
    return this.floats[STARTED_AT]!;
  }

  /** The job the worker has begun last. */
  get seq(): number {
    return Atomics.load(this.header, SEQ);
  }
}

/** The worker's side: a RecordSink that journals, and the phase's state for the watchdog. */
export class JournalWriter extends JournalView implements RecordSink {
  /** Starts job `seq`: empty journal, loading. */
  begin(seq: number): void {
    Atomics.store(this.header, OFFSET, 0);
    Atomics.store(this.header, DROPPED, 0);
    Atomics.store(this.header, HOST_CALLS, 0);
    this.floats[PEAK_MEMORY] = 0;
    this.floats[BYTES_STORED] = 0;
    Atomics.store(this.header, STATE, JournalState.Loading);
    Atomics.store(this.header, SEQ, seq);
  }

  /** The guest starts running: its clock starts now. */
  running(): void {
    this.floats[STARTED_AT] = sharedNow();
    Atomics.store(this.header, STATE, JournalState.Running);
  }

  idle(): void {
    Atomics.store(this.header, STATE, JournalState.Idle);
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
    Atomics.store(this.header, HOST_CALLS, hostCalls);
    this.floats[PEAK_MEMORY] = peakMemoryBytes;
  }

  private append(type: RecordType, payload: Uint8Array): void {
    const offset = Atomics.load(this.header, OFFSET);
    if (offset + RECORD_HEADER + payload.length > this.bytes.length) {
      Atomics.add(this.header, DROPPED, 1);
      return;
    }
    this.bytes[offset] = type;
    this.view.setUint32(offset + 1, payload.length, true);
    this.bytes.set(payload, offset + RECORD_HEADER);
    // The offset is published last: a reader never sees a record half-written.
    Atomics.store(this.header, OFFSET, offset + RECORD_HEADER + payload.length);
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

/** The main thread's side. */
export class JournalReader extends JournalView {
  /** The phase's records, read back after its worker was terminated. */
  recover(phase: Phase): Recovered {
    const end = Atomics.load(this.header, OFFSET);
    const logs: LogRecord[] = [];
    const files = new Map<string, number>();
    for (let offset = 0; offset + RECORD_HEADER <= end; ) {
      const type = this.bytes[offset] as RecordType;
      const length = this.view.getUint32(offset + 1, true);
      const payload = this.bytes.slice(offset + RECORD_HEADER, offset + RECORD_HEADER + length);
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
      hostCalls: Atomics.load(this.header, HOST_CALLS),
      peakMemoryBytes: this.floats[PEAK_MEMORY]!,
      bytesStored: this.floats[BYTES_STORED]!,
      dropped: Atomics.load(this.header, DROPPED),
    };
  }
}

function guestLog(phase: Phase, { level, message, fields }: LogEntry): LogRecord {
  return { phase, source: "guest", level, message, ...(fields === undefined ? {} : { fields }) };
}
