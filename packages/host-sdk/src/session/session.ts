import {
  decode,
  encode,
  formatVersion,
  frame,
  HelloReplyC,
  SUPPORTED_VERSIONS,
  ZkguestError,
  type Body,
  type Failure,
  type HostRequestKind,
  type LogEntry,
  type Message,
  type ProofStage,
  type Value,
  type Version,
  type Witness,
} from "@zkguest/protocol";
import { either as E } from "fp-ts";
import { GuestFailure, type GuestInstance, type LoadedGuest } from "../engine/engine.js";
import type { FileRecord, LogRecord, Phase, RunError } from "../report.js";
import { cutGuestText } from "../guest-text.js";
import { engineLimits, protocolLimits, type RunLimits } from "../run-limits.js";
import type { LazyDisk } from "./disk.js";
import { GuestRequests } from "./guest-requests.js";
import { PhaseRecorder, type RecordSink } from "./recorder.js";

/** The name and version the host gives in `hello`. */
export const HOST_NAME = "zkguest-host/0.1.0";

/** What the entrypoint is told about proving (the body of `proof.result`, without the arguments). */
export interface ProofOutcome {
  readonly success: boolean;
  readonly proof?: Uint8Array;
  readonly error?: Failure;
  /** Which step failed, when one did: the witness step or the prover. */
  readonly stage?: ProofStage;
  /** The logs of the witness step. */
  readonly logs: readonly LogEntry[];
}

/** One phase to run: the witness step with the arguments, or the entrypoint with the outcome of proving. */
export type PhaseInput =
  | { readonly phase: "witness"; readonly args: Value; readonly limits: RunLimits }
  | { readonly phase: "entrypoint"; readonly args: Value; readonly limits: RunLimits; readonly proof: ProofOutcome };

/** What a phase produced; `error` is set when it failed, and everything recorded until then is kept. */
export interface PhaseOutcome {
  readonly phase: Phase;
  readonly error?: RunError;
  /** The witnesses of the witness step's witness.ready (also when the phase failed after it). */
  readonly witnesses?: Witness[];
  readonly logs: LogRecord[];
  readonly files: FileRecord[];
  readonly hostCalls: number;
  readonly bytesStored: number;
  readonly peakMemoryBytes: number;
  readonly durationMs: number;
}

const HELLO_ID = 1;
const PHASE_ID = 2;

/**
 * Runs one phase of one run on a fresh instance of `guest` (SPEC.md §2): `hello`, then
 * `witness.get` or `proof.result`, answering every request the guest makes meanwhile. Never
 * throws: whatever ends the phase early (a guest failure, a limit, a broken conversation, a host
 * bug) is the outcome's `error`, recorded in the logs with its stack, and the logs, files and
 * counters gathered until then are kept. The disk is left open for the caller to close.
 */
export function runPhase(guest: LoadedGuest, disk: LazyDisk, input: PhaseInput, sink?: RecordSink): PhaseOutcome {
  const started = performance.now();
  const recorder = new PhaseRecorder(input.phase, input.limits, sink);
  const requests = new GuestRequests(recorder, disk, input.limits);
  let error: RunError | undefined;
  let instance: GuestInstance | undefined;
  try {
    instance = guest.instantiate(requests.handler, engineLimits(input.limits));
  } catch (e) {
    error = requests.fatal ?? runErrorOf(e);
  }
  if (instance !== undefined) {
    const live = instance;
    requests.sampleMemory = () => recorder.memory(live.memoryUsed());
    requests.drainOutput = () => drainOutput(live, recorder);
    const conversation = converse(live, requests, input);
    if (E.isLeft(conversation)) error = conversation.left;
    // What the guest printed last, and its memory at the end, before the instance goes.
    try {
      requests.drainOutput();
      requests.sampleMemory();
    } catch (e) {
      error ??= requests.fatal ?? runErrorOf(e);
    }
    try {
      live.dispose();
    } catch (e) {
      error ??= runErrorOf(e);
    }
  }
  if (error !== undefined) {
    error = withinTextBound(error);
    recorder.record(errorRecord(input.phase, error));
  }
  recorder.finish();
  return {
    phase: input.phase,
    ...(error === undefined ? {} : { error }),
    ...(requests.witnesses === undefined ? {} : { witnesses: requests.witnesses }),
    logs: recorder.logs,
    files: recorder.fileList(),
    hostCalls: recorder.hostCalls,
    bytesStored: recorder.bytesStored,
    peakMemoryBytes: recorder.peakMemoryBytes,
    durationMs: performance.now() - started,
  };
}

/** The whole conversation of one phase: `hello`, then the phase's request. */
function converse(instance: GuestInstance, requests: GuestRequests, input: PhaseInput): E.Either<RunError, void> {
  const version = hello(instance, requests, input.limits);
  if (E.isLeft(version)) return version;
  if (input.phase === "witness") {
    const done = send(instance, requests, "witness.get", { args: input.args });
    if (E.isLeft(done)) return done;
    if (requests.witnesses === undefined) {
      return E.left({ code: "invalid_state", message: "the guest answered witness.get without sending witness.ready: the witness step failed" });
    }
    return E.right(undefined);
  }
  const body = proofResultBody(input.args, input.proof, input.limits.maxFrameBytes, requests.version);
  if (E.isLeft(body)) return body;
  return E.map(() => undefined)(send(instance, requests, "proof.result", body.right));
}

/** `hello`: offers every version the host speaks and announces the limits; gives the version the guest chose. */
function hello(instance: GuestInstance, requests: GuestRequests, limits: RunLimits): E.Either<RunError, Version> {
  const answer = send(instance, requests, "hello", { host: HOST_NAME, limits: protocolLimits(limits), offer: [...SUPPORTED_VERSIONS] });
  if (E.isLeft(answer)) return answer;
  const reply = HelloReplyC.decode(answer.right);
  if (E.isLeft(reply)) return E.left({ code: "malformed_frame", message: "the guest answered hello with a value that is not {guest, version}" });
  const chosen = reply.right.version;
  const offered = SUPPORTED_VERSIONS.find(([major]) => major === chosen[0]);
  if (offered === undefined || chosen[1] > offered[1]) {
    const offer = SUPPORTED_VERSIONS.map(formatVersion).join(", ");
    return E.left({ code: "unsupported_version", message: `the guest chose version ${formatVersion(chosen)}, which the host did not offer (${offer})` });
  }
  requests.version = chosen;
  return E.right(chosen);
}

/**
 * The body of `proof.result`. The frame must fit in max_frame_bytes: when the witness step's
 * logs make it too large, the oldest are left out (and a line says how many); when the proof
 * and the arguments alone are too large, the phase cannot start.
 */
function proofResultBody(args: Value, proof: ProofOutcome, maxFrameBytes: number, version: Version): E.Either<RunError, Body<"proof.result">> {
  const outcome = {
    args,
    ...(proof.error === undefined ? {} : { error: proof.error }),
    ...(proof.proof === undefined ? {} : { proof: proof.proof }),
    ...(proof.stage === undefined ? {} : { stage: proof.stage }),
    success: proof.success,
  };
  const fits = (logs: LogEntry[]) => encode(frame("proof.result", PHASE_ID, { ...outcome, logs }, version)).length <= maxFrameBytes;
  const logs = [...proof.logs];
  if (fits(logs)) return E.right({ ...outcome, logs });
  // Halve what is left out until it fits, then give back what can be: O(log n) encodings.
  let lo = 0;
  let hi = logs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (fits(withOmitted(logs, mid))) hi = mid;
    else lo = mid + 1;
  }
  const trimmed = withOmitted(logs, lo);
  if (!fits(trimmed)) {
    return E.left({ code: "frame_too_large", message: `proof.result does not fit in max_frame_bytes (${maxFrameBytes}) even without the logs: the proof or the arguments are too large` });
  }
  return E.right({ ...outcome, logs: trimmed });
}

function withOmitted(logs: LogEntry[], omitted: number): LogEntry[] {
  if (omitted === 0) return logs;
  const note: LogEntry = { level: "warn", message: `${omitted} earlier log lines of the witness step were left out to fit max_frame_bytes` };
  return [note, ...logs.slice(omitted)];
}

/**
 * Sends one host request and gives the `ok` value. Everything else is a Left: the guest's
 * failure (thrown by the engine), its `error` response, or a response that breaks the
 * conversation (unreadable, of the wrong kind, answering another id).
 */
function send<K extends HostRequestKind>(instance: GuestInstance, requests: GuestRequests, kind: K, body: Body<K>): E.Either<RunError, Value> {
  const id = kind === "hello" ? HELLO_ID : PHASE_ID;
  const bytes = encode(frame(kind, id, body, requests.version) as Message);
  if (bytes.length > requests.limits.maxFrameBytes) {
    return E.left({ code: "frame_too_large", message: `the ${kind} request is ${bytes.length} bytes, max_frame_bytes is ${requests.limits.maxFrameBytes}` });
  }
  let responseBytes: Uint8Array;
  requests.handling = kind;
  try {
    responseBytes = instance.handle(bytes);
    // Sampling walks the guest's heap; hello allocates next to nothing.
    if (kind !== "hello") requests.sampleMemory();
  } catch (e) {
    return E.left(requests.fatal ?? runErrorOf(e));
  } finally {
    requests.handling = "nothing";
  }
  const response = decode(responseBytes, { maxFrameBytes: requests.limits.maxFrameBytes });
  if (E.isLeft(response)) return E.left({ code: response.left.code, message: `the guest's answer to ${kind} was refused: ${response.left.message}` });
  const m = response.right;
  if (m.kind !== "ok" && m.kind !== "error") return E.left({ code: "invalid_state", message: `the guest answered ${kind} with a ${m.kind} request instead of ok or error` });
  // Id 0 is no request's: the guest could not read the request's id (SPEC.md §3.4).
  if (m.kind === "error" && m.id === 0) return E.left({ code: m.body.code, message: `the guest could not read the ${kind} request: ${m.body.message}` });
  if (m.id !== id) return E.left({ code: "invalid_state", message: `the guest answered ${kind} (id ${id}) with a response to id ${m.id}` });
  if (m.kind === "error") return E.left({ code: m.body.code, message: `the guest answered ${kind} with ${m.body.code}: ${m.body.message}` });
  return E.right(m.body.value);
}

/** Moves what the guest printed (stdout, stderr) into the logs; it counts against max_log_bytes. */
function drainOutput(instance: GuestInstance, recorder: PhaseRecorder): void {
  for (const line of instance.drainOutput()) recorder.guestLog(line.level, line.message, undefined, Buffer.byteLength(line.message, "utf8"));
}

/** A thrown failure as the phase's error: the guest's own stack when the engine has one. */
export function runErrorOf(e: unknown): RunError {
  if (e instanceof GuestFailure) {
    return {
      code: e.code,
      message: e.message,
      ...(e.limit === undefined ? {} : { limit: e.limit }),
      ...(e.guestStack === undefined ? {} : { stack: e.guestStack }),
    };
  }
  if (e instanceof ZkguestError) return { code: e.code, message: e.message, ...(e.stack === undefined ? {} : { stack: e.stack }) };
  // Anything else is a bug in the host or an engine: reported as such, with where it happened.
  const err = e instanceof Error ? e : new Error(String(e));
  return { code: "internal", message: `host error: ${err.message}`, ...(err.stack === undefined ? {} : { stack: err.stack }) };
}

/** The error with its message and stack cut to MAX_GUEST_TEXT_BYTES: either may carry the guest's text. */
function withinTextBound(error: RunError): RunError {
  return { ...error, message: cutGuestText(error.message), ...(error.stack === undefined ? {} : { stack: cutGuestText(error.stack) }) };
}

/** The log line the host records for a phase's error, with its stack. */
export function errorRecord(phase: Phase, error: RunError): LogRecord {
  return { phase, source: "host", level: "error", message: describe(error), ...(error.stack === undefined ? {} : { stack: error.stack }) };
}

/** The one-line form of an error in the logs: `code (limit): message`. */
export function describe(error: RunError): string {
  return `${error.code}${error.limit === undefined ? "" : ` (${error.limit})`}: ${error.message}`;
}
