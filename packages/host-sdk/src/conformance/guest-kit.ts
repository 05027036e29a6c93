import { decode as decodeMsgpack, encode as encodeMsgpack } from "@msgpack/msgpack";
import { formatVersion, GUEST_REQUEST_KINDS, HelloReplyC, type Body, type ErrorCode, type Value } from "@zkguest/protocol";
import type { LoadedGuest } from "../engine/engine.js";
import { contractArgs, FS_OPS, OP_OK, OP_REPORT, opReports, type OpReport } from "./contract.js";
import { Conversation, describeReply, type ConversationOptions, type Reply } from "./conversation.js";
import { fail, pass, skip, type CheckResult } from "./results.js";
import { claimedKind, loadVectors, type Vector } from "./vectors.js";

/** Options of the guest kit. */
export interface GuestKitOptions {
  /**
   * The witness step's arguments in the scenarios that run the guest as it is (the handshake,
   * the witness step, the entrypoint; the file errors for a guest without the conformance
   * controller contract). Default nil: give what the guest's getWitnesses expects.
   */
  readonly args?: Value;
  /** Wall-clock limit of each host request, ms (default 5 s). */
  readonly timeMs?: number;
}

/**
 * The guest conformance kit: drives a guest through the engine contract, from a reference
 * host, in every scenario below, each on a fresh instance, and gives one row per scenario.
 *
 * - the handshake: offering 1.0; offering 1.9 and 2.0 with fields a later minor adds (the
 *   guest picks 1.x and ignores them); offering only 2.0 (error unsupported_version naming both
 *   sides, then nothing else, even when the host wrongly goes on);
 * - the witness step: witness.ready exactly once before ok, every frame strict and canonical,
 *   request ids increasing; the same with a non-canonical witness.get, which must be accepted;
 * - the entrypoint after a proof (in the witness step's conversation, and in a fresh instance)
 *   and after a failed proof;
 * - every error code a host can answer a file request with, and one a later minor adds: the
 *   guest surfaces each (reports it, or fails the step with it), never crashes or reports success;
 * - the limits of hello: a small max_frame_bytes the guest's own frames respect, and a host
 *   frame above it, which the guest refuses;
 * - the invalid frames of protocol/vectors/invalid.json, sent as host requests: each refused
 *   with the vector's code (answered with its id when the id can be read). The one that needs
 *   a max_frame_bytes of 16, below any answer to hello, is left to the larger-host-frame scenario.
 */
export function runGuestKit(guest: LoadedGuest, options: GuestKitOptions = {}): CheckResult[] {
  const args = options.args ?? null;
  const base: ConversationOptions = options.timeMs === undefined ? {} : { timeMs: options.timeMs };
  const kit = new GuestKit(guest, args, base);
  const contract = kit.contract();
  const follows = contract.result !== "skip";
  return [
    kit.helloOneZero(),
    kit.helloMinorAndMajor(),
    kit.helloOnlyTwo(),
    kit.witnessStep(false),
    kit.witnessStep(true),
    kit.entrypoint(true, false),
    kit.entrypoint(true, true),
    kit.entrypoint(false, false),
    contract,
    ...[...FS_ERROR_CODES, laterMinorCode()].map((code) => (follows ? kit.fsErrorReported(code) : kit.fsErrorSurfaced(code))),
    follows ? kit.ownFramesWithinLimit() : skip(OWN_FRAMES, "needs the conformance controller contract"),
    kit.largerHostFrameRefused(),
    ...loadVectors("invalid").filter((v) => v.maxFrameBytes === undefined).map((v) => kit.invalidFrame(v)),
  ];
}

/** The codes a host can answer a file request with (SPEC.md §4.4, §5.2, §6, §7). */
export const FS_ERROR_CODES: readonly ErrorCode[] = [
  "invalid_path",
  "invalid_name",
  "not_found",
  "already_exists",
  "not_a_directory",
  "is_a_directory",
  "directory_not_empty",
  "directory_full",
  "no_space",
  "quota_exceeded",
  "corrupt_volume",
  "frame_too_large",
  "malformed_frame",
  "invalid_state",
  "internal",
];

let laterCode: string | undefined;

/** A code a later minor version adds, from protocol/vectors/accepted.json: a 1.0 guest reads it as `internal` (SPEC.md §8). */
export function laterMinorCode(): string {
  if (laterCode === undefined) {
    // The vector's bytes, not its decoded value: decoding already turns the code into internal.
    const vector = loadVectors("accepted").find((v) => v.name === "unknown error code");
    const code = vector && (decodeMsgpack(vector.bytes) as { body?: { code?: unknown } } | null)?.body?.code;
    if (typeof code !== "string") throw new Error("protocol/vectors/accepted.json has no 'unknown error code' vector");
    laterCode = code;
  }
  return laterCode;
}

/** The max_frame_bytes of the limit scenarios: small, but room for any answer to hello. */
const SMALL_FRAME_BYTES = 4096;
const OWN_FRAMES = `max_frame_bytes ${SMALL_FRAME_BYTES}: the guest's frames`;

/** The proof the entrypoint scenarios hand the guest: the size of a real one (a STARK's is larger still). */
const PROOF = new Uint8Array(16 * 1024).map((_, i) => i & 0xff);

class GuestKit {
  constructor(
    private readonly guest: LoadedGuest,
    private readonly args: Value,
    private readonly base: ConversationOptions,
  ) {}

  helloOneZero(): CheckResult {
    const name = "hello offering 1.0";
    return this.converse({}, (c) => {
      const r = c.hello([[1, 0]]);
      const chosen = chosenVersion(r);
      if (typeof chosen === "string") return fail(name, chosen);
      if (chosen.version[0] !== 1 || chosen.version[1] !== 0) return fail(name, `chose ${formatVersion(chosen.version)}; the host offered 1.0 only`);
      return verdict(name, c, `chose 1.0 (guest '${chosen.guest}')`);
    });
  }

  helloMinorAndMajor(): CheckResult {
    const name = "hello offering 1.9 and 2.0";
    return this.converse({}, (c) => {
      // What a later minor may add (SPEC.md §8): an envelope key, a body field, a limit.
      const r = c.hello([[1, 9], [2, 0]], { envelope: { trace: "conformance" }, body: { features: ["later"] }, limits: { max_widgets: 3 } });
      const chosen = chosenVersion(r);
      if (typeof chosen === "string") return fail(name, chosen);
      const [major, minor] = chosen.version;
      if (major !== 1 || minor > 9) return fail(name, `chose ${formatVersion(chosen.version)}; it must pick 1.x (x at most 9): a 1.x guest cannot speak 2.0`);
      return verdict(name, c, `chose ${formatVersion(chosen.version)}, ignoring a 1.9 envelope key, body field and limit`);
    });
  }

  helloOnlyTwo(): CheckResult {
    const name = "hello offering only 2.0";
    return this.converse({}, (c) => {
      const helloId = c.requestId;
      const r = c.hello([[2, 0]]);
      if (r.kind !== "error" || r.code !== "unsupported_version") return fail(name, `expected error unsupported_version, got ${describeReply(r)}`);
      if (r.id !== helloId) return fail(name, `the error answers id ${r.id}, not hello's id ${helloId}`);
      if (!/\b2\.0\b/.test(r.message) || !/\b1\.\d+\b/.test(r.message)) return fail(name, `the message must name both sides' versions (2.0 and the guest's 1.x): '${r.message}'`);
      // SPEC.md §8: then it does nothing else, even if the host wrongly goes on.
      const after = c.request("witness.get", { args: this.args });
      if (c.host.requests > 0) return fail(name, `after refusing it still sent ${c.host.requests} request(s) (then answered ${describeReply(after)})`);
      return verdict(name, c, `unsupported_version: ${r.message}; nothing sent after`);
    });
  }

  /** The witness step; `nonCanonical` writes witness.get with its keys out of order and integers in larger encodings. */
  witnessStep(nonCanonical: boolean): CheckResult {
    const name = nonCanonical ? "witness step, non-canonical witness.get" : "witness step";
    return this.converse({}, (c) => {
      const refused = greet(c);
      if (refused) return fail(name, refused);
      const r = nonCanonical ? c.send(nonCanonicalWitnessGet(c.requestId, this.args), "witness.get") : c.request("witness.get", { args: this.args });
      if (r.kind !== "ok" || r.value !== null) return fail(name, `expected ok nil, got ${describeReply(r)}${c.host.problems.length ? `; ${c.host.problems.join("; ")}` : ""}`);
      if (c.host.witnessReady !== 1) return fail(name, "answered ok without sending witness.ready");
      return verdict(name, c, `${c.host.requests} request(s), witness.ready once, all canonical`);
    });
  }

  /**
   * The entrypoint, proving having succeeded or failed: after the witness step in the same
   * conversation (SPEC.md §2's run), or in a fresh instance that is only told hello (a host may
   * run the phases apart, §2: the guest must need nothing but proof.result and its disk).
   */
  entrypoint(success: boolean, fresh: boolean): CheckResult {
    const name = `entrypoint after ${success ? "a proof" : "a failed proof"}${fresh ? ", in a fresh instance" : ""}`;
    return this.converse({}, (c) => {
      if (fresh) {
        const refused = greet(c);
        if (refused) return fail(name, refused);
      } else {
        const ready = this.throughWitnessStep(c, this.args);
        if (ready !== undefined) return fail(name, ready);
      }
      const outcome: Body<"proof.result"> = success
        ? { args: this.args, logs: [...c.host.logs], proof: PROOF, success: true }
        : { args: this.args, error: { code: "internal", message: "the conformance host's prover failed on purpose" }, logs: [...c.host.logs], success: false };
      const r = c.request("proof.result", outcome);
      if (r.kind !== "ok" || r.value !== null) return fail(name, `expected ok nil, got ${describeReply(r)}`);
      return verdict(name, c, `ok after ${c.host.fsRequests.length} file request(s)`);
    });
  }

  /**
   * Whether the guest follows the conformance controller contract: with a working host, its
   * fs-errors mode must report every operation as `ok`. A guest that reports nothing does not
   * follow it (skip): the kit then runs it as it is where the contract would be used.
   */
  contract(): CheckResult {
    const name = "conformance controller contract";
    return this.converse({}, (c) => {
      const ready = this.throughWitnessStep(c, contractArgs("fs-errors"));
      const reports = opReports(c.host.logs);
      if (reports.length === 0) return skip(name, `the guest does not follow it (args {"conformance": "fs-errors"} gave no ${OP_REPORT} line): file errors are checked on its own run`);
      if (ready !== undefined) return fail(name, ready);
      const wrong = this.misreported(reports, OP_OK);
      return wrong ? fail(name, `with a working host: ${wrong}`) : verdict(name, c, `${FS_OPS.length} operations reported ok with a working host`);
    });
  }

  /** Every file request answered with `code`; the contract's fs-errors mode must report it for each operation. */
  fsErrorReported(code: string): CheckResult {
    const name = `file error ${code}`;
    const expected = readAs(code);
    return this.converse({ fs: { kind: "fail", code } }, (c) => {
      const ready = this.throughWitnessStep(c, contractArgs("fs-errors"));
      if (ready !== undefined) return fail(name, ready);
      const wrong = this.misreported(opReports(c.host.logs), expected);
      return wrong ? fail(name, `expected ${expected} from every operation: ${wrong}`) : verdict(name, c, `${FS_OPS.length} operations, each caught ${expected}`);
    });
  }

  /** What is wrong with the reports, when every operation should have reported `expected`. */
  private misreported(reports: readonly OpReport[], expected: string): string | undefined {
    const wrong = FS_OPS.flatMap((op) => {
      const got = reports.filter((r) => r.op === op).map((r) => r.code);
      if (got.length !== 1) return [`${op} reported ${got.length} times`];
      if (got[0] === OP_OK && expected !== OP_OK) return [`${op} reported success`];
      return got[0] === expected ? [] : [`${op} reported ${got[0]}`];
    });
    return wrong.length ? wrong.join(", ") : undefined;
  }

  /**
   * Every file request answered with `code`, for a guest without the contract: it runs as it is
   * (witness step, entrypoint after a proof) and must surface the code, in an error answer or a
   * log line above debug, without crashing.
   */
  fsErrorSurfaced(code: string): CheckResult {
    const name = `file error ${code}`;
    const expected = readAs(code);
    return this.converse({ fs: { kind: "fail", code } }, (c) => {
      const refused = greet(c);
      if (refused) return fail(name, refused);
      const replies = [c.request("witness.get", { args: this.args })];
      if (replies[0]!.kind === "ok") replies.push(c.request("proof.result", { args: this.args, logs: [...c.host.logs], proof: PROOF, success: true }));
      if (c.host.fsRequests.length === 0) return skip(name, "the guest made no file request on its own run (with --args it may; or follow the conformance controller contract)");
      const crashed = replies.find((r) => r.kind === "failed" || r.kind === "broken");
      if (crashed) return fail(name, describeReply(crashed));
      const names = (text: string) => text.includes(expected) || text.includes(code);
      const inAnswer = replies.some((r) => r.kind === "error" && (r.code === expected || names(r.message)));
      const inLog = c.host.logs.some((l) => l.level !== "debug" && (names(l.message) || names(JSON.stringify(l.fields ?? {}))));
      if (!inAnswer && !inLog) {
        return fail(name, `${c.host.fsRequests.length} file request(s) failed with ${code}, yet the guest answered ${replies.map(describeReply).join(", then ")} and logged nothing naming it`);
      }
      return verdict(name, c, inAnswer ? `the guest answered error ${expected}` : "the guest logged it");
    });
  }

  /** Hello with a small max_frame_bytes: the contract's frame-limit mode must fail its large fs.store with frame_too_large, sending nothing over the limit. */
  ownFramesWithinLimit(): CheckResult {
    const bytes = 2 * SMALL_FRAME_BYTES;
    return this.converse({ maxFrameBytes: SMALL_FRAME_BYTES }, (c) => {
      const refused = greet(c);
      if (refused) return fail(OWN_FRAMES, refused);
      const r = c.request("witness.get", { args: contractArgs("frame-limit", { bytes }) });
      if (r.kind === "failed" && r.limit === "frame_size") return fail(OWN_FRAMES, `the guest sent a frame over max_frame_bytes: ${r.message}`);
      if (r.kind !== "ok" || c.host.witnessReady !== 1) return fail(OWN_FRAMES, `the witness step did not succeed: ${describeReply(r)}`);
      const store = opReports(c.host.logs).find((x) => x.op === "fs.store");
      if (store?.code !== "frame_too_large") return fail(OWN_FRAMES, `a ${bytes}-byte fs.store must fail with frame_too_large without reaching the host; the guest reported ${store?.code ?? "nothing"}`);
      return verdict(OWN_FRAMES, c, `a ${bytes}-byte fs.store gave frame_too_large and never reached the host`);
    });
  }

  /** Hello with a small max_frame_bytes, then a witness.get above it: the guest must refuse it (SPEC.md §6: both peers enforce it). */
  largerHostFrameRefused(): CheckResult {
    const name = `max_frame_bytes ${SMALL_FRAME_BYTES}: a larger host frame`;
    return this.converse({ maxFrameBytes: SMALL_FRAME_BYTES }, (c) => {
      const refused = greet(c);
      if (refused) return fail(name, refused);
      const r = c.request("witness.get", { args: "x".repeat(2 * SMALL_FRAME_BYTES) });
      if (c.host.requests > 0) return fail(name, `the guest acted on a ${2 * SMALL_FRAME_BYTES}-byte frame (it sent ${c.host.requests} request(s)), over the max_frame_bytes it was told`);
      if (r.kind === "failed") return pass(name, `the guest stopped: ${r.message}`);
      if (r.kind === "error" && r.code === "frame_too_large") return pass(name, `error frame_too_large: ${r.message}`);
      return fail(name, `expected error frame_too_large (or the guest to stop), got ${describeReply(r)}`);
    });
  }

  /**
   * An invalid vector as a host request, after hello. It must be refused with the vector's code,
   * answering the id the vector says can be read (SPEC.md §3.4), or id 0 when none can (a guest
   * that stops instead is let through: a 1.0 guest may). A frame of a guest-to-host kind may
   * also be refused as invalid_state: a guest need not read the bodies of requests it never
   * receives (the kit's one leniency beyond the table).
   */
  invalidFrame(vector: Vector): CheckResult {
    const name = `invalid frame: ${vector.name}`;
    const code = vector.error!;
    const id = vector.id;
    const guestKind = (GUEST_REQUEST_KINDS as readonly string[]).includes(claimedKind(vector.bytes) ?? "");
    const allowed = [code, ...(code === "malformed_frame" && id !== undefined && guestKind ? ["invalid_state"] : [])];
    return this.converse({}, (c) => {
      const refused = greet(c);
      if (refused) return fail(name, refused);
      const r = c.send(vector.bytes, "witness.get");
      if (c.host.requests > 0) return fail(name, `the guest acted on it: it sent ${c.host.requests} request(s)`);
      if (r.kind === "failed" && id === undefined) return pass(name, `no readable id; the guest stopped: ${r.message}`);
      if (r.kind !== "error" || !allowed.includes(r.code)) return fail(name, `expected error ${allowed.join(" or ")}, got ${describeReply(r)}`);
      const expectedId = id ?? 0;
      if (r.id !== expectedId) {
        return fail(name, id === undefined ? `answered id ${r.id}; no id can be read from the frame, so the error answers id 0 (SPEC.md §3.4)` : `answered id ${r.id}; the frame's id ${id} can be read and must be answered (SPEC.md §3.4)`);
      }
      return verdict(name, c, `error ${r.code}, id ${expectedId}`);
    });
  }

  /** hello 1.0 and a witness step with `args`; undefined when both succeeded, else what went wrong. */
  private throughWitnessStep(c: Conversation, args: Value): string | undefined {
    const refused = greet(c);
    if (refused) return refused;
    const r = c.request("witness.get", { args });
    if (r.kind !== "ok") return `the witness step did not succeed: ${describeReply(r)}`;
    if (c.host.witnessReady !== 1) return "the witness step ended without witness.ready";
    return undefined;
  }

  private converse<T>(options: ConversationOptions, body: (c: Conversation) => T): T {
    const c = new Conversation(this.guest, { ...this.base, ...options });
    try {
      return body(c);
    } finally {
      c.dispose();
    }
  }
}

/** hello offering 1.0; undefined when the guest accepted it, else what it answered. */
function greet(c: Conversation): string | undefined {
  const hello = c.hello([[1, 0]]);
  return hello.kind === "ok" ? undefined : `hello: ${describeReply(hello)}`;
}

/** The code a 1.0 guest reports for `code`: itself, or internal for the later minor's code (SPEC.md §8). */
function readAs(code: string): string {
  return code === laterMinorCode() ? "internal" : code;
}

/** The chosen version and guest name of an answer to hello, or why there are none. */
function chosenVersion(r: Reply): { version: readonly [number, number]; guest: string } | string {
  if (r.kind !== "ok") return `expected ok {guest, version}, got ${describeReply(r)}`;
  const reply = HelloReplyC.decode(r.value);
  return reply._tag === "Right" ? reply.right : `the ok value is not {guest, version}: ${describeReply(r)}`;
}

/** Pass with `detail`, unless the reference host noted protocol breaches along the way. */
function verdict(name: string, c: Conversation, detail: string): CheckResult {
  return c.host.problems.length ? fail(name, c.host.problems.join("; ")) : pass(name, detail);
}

/** witness.get with its keys in the order v, id, kind, body, the id as uint32 and the version as uint16s: valid, not canonical. */
function nonCanonicalWitnessGet(id: number, args: Value): Uint8Array {
  const str = (s: string) => encodeMsgpack(s);
  const uint16 = (n: number) => [0xcd, n >> 8, n & 0xff];
  const parts = [
    Uint8Array.of(0x84),
    str("v"),
    Uint8Array.of(0x92, ...uint16(1), ...uint16(0)),
    str("id"),
    Uint8Array.of(0xce, (id >>> 24) & 0xff, (id >>> 16) & 0xff, (id >>> 8) & 0xff, id & 0xff),
    str("kind"),
    str("witness.get"),
    str("body"),
    encodeMsgpack({ args }),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
