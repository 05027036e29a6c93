import fc from "fast-check";
import {
  ERROR_CODES,
  PROTOCOL_VERSION,
  type Body,
  type Kind,
  type LogEntry,
  type Message,
  type Value,
  type Witness,
} from "../src/index.js";

// fast-check arbitraries for every message kind, used by the property tests here and by the
// conformance tests in test/.

const safeInt = fc.integer({ min: Number.MIN_SAFE_INTEGER + 1, max: Number.MAX_SAFE_INTEGER });
const uint = fc.nat({ max: Number.MAX_SAFE_INTEGER });
// -0 is an integer on the wire (SPEC.md §3.2 rule 4) and comes back as 0.
const finiteDouble = fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => (Object.is(d, -0) ? 0 : d));
const text = fc.string({ unit: "binary", maxLength: 40 });
// `__proto__` is refused as a map key (SPEC.md §3.3).
const key = fc.string({ unit: "binary", maxLength: 12 }).filter((k) => k !== "__proto__");
const bytes = fc.uint8Array({ maxLength: 64 });

export const valueArb: fc.Arbitrary<Value> = fc.letrec<{ value: Value }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    safeInt,
    finiteDouble,
    text,
    bytes,
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(key, tie("value"), { maxKeys: 4, noNullPrototype: true }),
  ),
})).value;

const fieldsArb = fc.dictionary(key, valueArb, { maxKeys: 4, noNullPrototype: true });
const levelArb = fc.constantFrom("debug", "info", "warn", "error") as fc.Arbitrary<LogEntry["level"]>;
const logEntryArb: fc.Arbitrary<LogEntry> = fc.record({ level: levelArb, message: text, fields: fieldsArb }, { requiredKeys: ["level", "message"] });
const witnessArb: fc.Arbitrary<Witness> = fc.oneof(
  fc.record({ type: fc.constant("data" as const), data: bytes }),
  fc.record({ type: fc.constant("state_proof" as const), domain: text, root: bytes, payload: bytes, proof: bytes }),
);
const versionArb = fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff }));
const pathArb = fc.oneof(text, fc.constantFrom("/", "/var/share/proof.bin", "/LOGS/RUN1.TXT"));
const errorArb = fc.record({ code: fc.constantFrom(...ERROR_CODES), message: text });

const limitsArb = fc.record(
  {
    max_frame_bytes: uint,
    max_path_bytes: uint,
    max_log_message_bytes: uint,
    max_log_bytes: uint,
    max_host_calls: uint,
    quota_bytes: uint,
    quota_files: uint,
    memory_bytes: uint,
    stack_bytes: uint,
    time_ms: uint,
  },
  { requiredKeys: ["max_frame_bytes", "max_path_bytes", "max_log_message_bytes"] },
);

const statArb = fc.record({ name: text, type: fc.constantFrom("file", "dir") as fc.Arbitrary<"file" | "dir">, size: uint, modified: text });

export const bodyArbs: { [K in Kind]: fc.Arbitrary<Body<K>> } = {
  hello: fc.record({ offer: fc.array(versionArb, { maxLength: 3 }), host: text, limits: limitsArb }),
  "witness.get": fc.record({ args: valueArb }),
  "proof.result": fc.oneof(
    fc.record({ success: fc.constant(true), args: valueArb, logs: fc.array(logEntryArb, { maxLength: 3 }), proof: bytes }),
    fc.record({ success: fc.constant(false), args: valueArb, logs: fc.array(logEntryArb, { maxLength: 3 }), error: errorArb }),
  ),
  "witness.ready": fc.record({ witnesses: fc.array(witnessArb, { maxLength: 3 }) }),
  "fs.store": fc.record({ path: pathArb, data: bytes, mode: fc.constantFrom("create", "overwrite", "append") as fc.Arbitrary<"create" | "overwrite" | "append"> }),
  "fs.read": fc.record({ path: pathArb, offset: uint, length: uint }, { requiredKeys: ["path"] }),
  "fs.list": fc.record({ path: pathArb }),
  "fs.stat": fc.record({ path: pathArb }),
  "fs.remove": fc.record({ path: pathArb }),
  "fs.mkdir": fc.record({ path: pathArb, parents: fc.boolean() }, { requiredKeys: ["path"] }),
  log: fc.record({ level: levelArb, message: text, fields: fieldsArb }, { requiredKeys: ["level", "message"] }),
  ok: fc.oneof(fc.record({ value: valueArb }), fc.record({ value: statArb as fc.Arbitrary<Value> })),
  error: errorArb,
};

export function messageArb<K extends Kind>(kind: K): fc.Arbitrary<Message> {
  const v = fc.constantFrom(PROTOCOL_VERSION, [1, 7] as const);
  return fc
    .record({ v, id: fc.nat({ max: 0xffffffff }), body: bodyArbs[kind] as fc.Arbitrary<unknown> })
    .map(({ v, id, body }) => ({ v, id, kind, body }) as Message);
}

export const anyMessageArb: fc.Arbitrary<Message> = fc.oneof(...(Object.keys(bodyArbs) as Kind[]).map((k) => messageArb(k)));
