import {
  decode,
  encode,
  failure,
  frame,
  SUPPORTED_VERSIONS,
  ZkguestError,
  type Failure,
  type Message,
  type Value,
  type Version,
  type Witness,
} from "@zkguest/protocol";
import { either as E } from "fp-ts";
import { canonicalEncode } from "../canonical.js";
import { GuestFailure, type HostCallHandler } from "../engine/engine.js";
import type { RunError } from "../report.js";
import type { RunLimits } from "../run-limits.js";
import type { LazyDisk } from "./disk.js";
import { handleFsRequest, isFsKind } from "./fs-requests.js";
import type { PhaseRecorder } from "./recorder.js";

/** How often, in guest requests, the guest's memory is sampled for the peak. */
export const MEMORY_SAMPLE_CALLS = 256;

/** The host request the guest is handling now; its own requests are only allowed inside one (SPEC.md §2). */
export type Handling = "nothing" | "hello" | "witness.get" | "proof.result";

/**
 * The host's answers to the requests a guest sends while it handles a host request: decoding
 * with the run's limits, the conversation's rules (witness.ready exactly once, only inside
 * witness.get), the disk, the logs. Every request gets exactly one response frame; a request
 * that breaks a run limit, or a frame so broken that it cannot be answered, ends the run
 * instead (the handler throws the GuestFailure the engine passes up, and `fatal` says why).
 */
export class GuestRequests {
  /** What the guest is handling; set by the session around each host request. */
  handling: Handling = "nothing";
  /**
   * The version frames are written in: until `hello` is answered, the lowest the host offers
   * (SPEC.md §8: any guest sharing a major with the host can read it), then the agreed one.
   */
  version: Version = lowestVersion(SUPPORTED_VERSIONS);
  /** The witnesses of the one accepted witness.ready. */
  witnesses: Witness[] | undefined;
  /** Why the handler ended the run, when it did. */
  fatal: RunError | undefined;
  /** Samples the guest's memory for the peak (set once the instance exists). */
  sampleMemory: () => void = () => {};
  /** Moves what the guest printed into the logs, in order with its requests. */
  drainOutput: () => void = () => {};

  constructor(
    private readonly recorder: PhaseRecorder,
    private readonly disk: LazyDisk,
    readonly limits: RunLimits,
  ) {}

  readonly handler: HostCallHandler = (bytes) => {
    this.drainOutput();
    this.recorder.hostCall();
    // Measuring a guest's memory can cost more than the host call itself (QuickJS walks its
    // heap): sampled every MEMORY_SAMPLE_CALLS calls, and around every host request.
    if (this.recorder.hostCalls % MEMORY_SAMPLE_CALLS === 0) this.sampleMemory();
    if (bytes.length > this.limits.maxFrameBytes) {
      // The id cannot be read without parsing the frame, so it cannot be answered (SPEC.md §3.3).
      throw this.end(
        { code: "limit_exceeded", limit: "frame_size", message: `the guest sent a ${bytes.length}-byte frame, max_frame_bytes is ${this.limits.maxFrameBytes}` },
      );
    }
    const decoded = decode(bytes, { maxFrameBytes: this.limits.maxFrameBytes });
    if (E.isLeft(decoded)) {
      const { id, code, message } = decoded.left;
      if (id === undefined) throw this.end({ code, message: `the guest sent a frame without a readable id: ${message}` });
      return this.respond("frame", id, E.left(failure(code, message)));
    }
    const request = decoded.right;
    try {
      return this.respond(request.kind, request.id, this.answer(request, bytes));
    } catch (e) {
      if (e instanceof GuestFailure) throw e;
      if (e instanceof ZkguestError) return this.respond(request.kind, request.id, E.left(failure(e.code, e.message)));
      // A host bug: the guest gets `internal`, and the report keeps the stack.
      const err = e instanceof Error ? e : new Error(String(e));
      return this.respond(request.kind, request.id, E.left(failure("internal", `the host failed answering ${request.kind}: ${err.message}`)), err.stack);
    }
  };

  /** Records `error` as the reason the run ends, and gives the exception that unwinds the guest. */
  end(error: RunError): GuestFailure {
    this.fatal ??= error;
    return error.code === "limit_exceeded" && error.limit !== undefined
      ? GuestFailure.limitExceeded(error.limit, error.message)
      : new GuestFailure("guest_error", `${error.code}: ${error.message}`);
  }

  private answer(request: Message, bytes: Uint8Array): E.Either<Failure, Value> {
    if (this.handling === "nothing") {
      return E.left(failure("invalid_state", `${request.kind}: the guest may send requests only while it handles one of the host's`));
    }
    switch (request.kind) {
      case "log": {
        const { level, message, fields } = request.body;
        const messageBytes = Buffer.byteLength(message, "utf8");
        if (messageBytes > this.limits.maxLogMessageBytes) {
          return E.left(failure("limit_exceeded", `the log message has ${messageBytes} bytes, max_log_message_bytes is ${this.limits.maxLogMessageBytes}`));
        }
        const size = messageBytes + (fields === undefined ? 0 : canonicalEncode(fields).length);
        this.recorder.guestLog(level, message, fields, size, bytes);
        return E.right(null);
      }
      case "witness.ready":
        if (this.handling !== "witness.get") {
          return E.left(failure("invalid_state", `witness.ready is allowed only while the guest handles witness.get, not ${this.handling}`));
        }
        if (this.witnesses !== undefined) return E.left(failure("invalid_state", "witness.ready was already sent in this witness step; it is sent exactly once"));
        this.witnesses = request.body.witnesses;
        return E.right(null);
      case "hello":
      case "witness.get":
      case "proof.result":
        return E.left(failure("invalid_state", `${request.kind} is a request of the host to the guest, not the other way round`));
      case "ok":
      case "error":
        return E.left(failure("invalid_state", `a response (${request.kind}) when the host has no request waiting for one`));
      default:
        if (isFsKind(request.kind)) return handleFsRequest(request, this.disk, this.limits, this.recorder);
        return E.left(failure("unknown_kind", `unknown request kind '${(request as Message).kind}'`));
    }
  }

  /**
   * The response frame; one that would not fit in the guest's max_frame_bytes is replaced by
   * frame_too_large. An error is noted in the logs (with the host's stack for a host bug).
   */
  private respond(kind: string, id: number, result: E.Either<Failure, Value>, stack?: string): Uint8Array {
    let error: Failure;
    if (E.isRight(result)) {
      const bytes = encode(frame("ok", id, { value: result.right }, this.version));
      if (bytes.length <= this.limits.maxFrameBytes) return bytes;
      error = failure("frame_too_large", `the response is ${bytes.length} bytes, max_frame_bytes is ${this.limits.maxFrameBytes}: read large files in ranges`);
    } else {
      error = result.left;
    }
    const { code } = error;
    // The store names the image file it could not open: the guest learns of "its disk" only.
    const message = error.message.split(this.disk.imagePath).join("(the program's disk)");
    this.recorder.noteErrorResponse(kind, code, message, stack);
    return encode(frame("error", id, { code, message }, this.version));
  }
}

function lowestVersion(versions: readonly Version[]): Version {
  return versions.reduce((low, v) => (v[0] < low[0] || (v[0] === low[0] && v[1] < low[1]) ? v : low));
}
