/**
 * Writes protocol/vectors/*.json. Run it only when SPEC.md changes
 * (`node packages/protocol/dist/test/generate-vectors.js`), review the diff, and commit both:
 * the vectors are the reference that vectors.test.ts, the conformance kits and other
 * implementations check against, so the encoder must never silently rewrite them.
 */
import { encode as plainEncode } from "@msgpack/msgpack";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { decode, ERROR_CODES, encode, frame, fromHex, toHex, toVectorJson, type Message, type GoldenVector } from "../src/index.js";

const b = (...xs: number[]) => new Uint8Array(xs);
const ascii = (s: string) => toHex(new TextEncoder().encode(s));

function valid(name: string, description: string, m: Message): GoldenVector {
  return { name, description, hex: toHex(encode(m)), value: toVectorJson(m) };
}

const limits = { max_frame_bytes: 4194304, max_path_bytes: 255, max_log_message_bytes: 8192 };

const hostToGuest: GoldenVector[] = [
  valid("hello", "The handshake with the default limits, offering 1.1 (written in 1.1, the offer's lowest version).", frame("hello", 1, { offer: [[1, 1]], host: "zkguest-host/0.1.0", limits })),
  valid("hello 1.0", "A 1.0 host's handshake: offering 1.0, written in 1.0. A 1.1 guest answers in 1.0.", frame("hello", 1, { offer: [[1, 0]], host: "zkguest-host/0.1.0", limits }, [1, 0])),
  valid("hello, two majors and every limit", "A host that speaks 1.3 and 2.0 and announces all its run limits; written in 1.3, the offer's lowest version.", frame("hello", 1, {
    offer: [[1, 3], [2, 0]],
    host: "other-host/9",
    limits: { ...limits, max_log_bytes: 1048576, max_host_calls: 10000, quota_bytes: 16777216, quota_files: 1000, memory_bytes: 67108864, stack_bytes: 524288, time_ms: 5000 },
  }, [1, 3])),
  valid("witness.get", "Arguments of every Value type: map, array, negative and 32-bit integers, float, string, bytes, bool, nil.", frame("witness.get", 2, {
    args: { name: "alice", n: -5, big: 4294967296, ratio: 0.5, tags: ["a", true, null], salt: b(0xde, 0xad) },
  })),
  valid("witness.get, nil args", "A request without arguments.", frame("witness.get", 2, { args: null })),
  valid("proof.result, success", "The entrypoint call after a successful proof.", frame("proof.result", 3, {
    success: true,
    proof: b(0x01, 0x02, 0x03, 0x04),
    args: { n: 7 },
    logs: [{ level: "info", message: "witnesses ready", fields: { count: 1 } }],
  })),
  valid("proof.result, failure", "The entrypoint call after proving failed: no proof, an error.", frame("proof.result", 3, {
    success: false,
    args: { n: 7 },
    logs: [{ level: "error", message: "circuit rejected the witness" }],
    error: { code: "internal", message: "prover: constraint 12 not satisfied" },
  })),
];

const guestToHost: GoldenVector[] = [
  valid("witness.ready", "Both kinds of witness.", frame("witness.ready", 1, {
    witnesses: [
      { type: "data", data: b(0x2a) },
      { type: "state_proof", domain: "ethereum", root: b(0xaa, 0xbb), payload: b(0x01), proof: b(0x02, 0x03) },
    ],
  })),
  valid("fs.store create", "Create a file; fails if it exists.", frame("fs.store", 2, { path: "/var/share/proof.bin", data: b(1, 2, 3), mode: "create" })),
  valid("fs.store overwrite", "Create or replace atomically.", frame("fs.store", 3, { path: "/var/share/proof.bin", data: b(4), mode: "overwrite" })),
  valid("fs.store append", "Append, creating if missing.", frame("fs.store", 4, { path: "/LOGS/RUN.TXT", data: b(0x0a), mode: "append" })),
  valid("fs.read", "Read a whole file.", frame("fs.read", 5, { path: "/var/share/proof.bin" })),
  valid("fs.read range", "Read 4096 bytes at offset 65536.", frame("fs.read", 6, { path: "/BIG.BIN", offset: 65536, length: 4096 })),
  valid("fs.list", "List a directory.", frame("fs.list", 7, { path: "/var/share" })),
  valid("fs.list page", "List entries 100 to 149 of a directory (1.1: offset and length page through it).", frame("fs.list", 7, { path: "/LOGS", offset: 100, length: 50 })),
  valid("fs.stat", "Stat a path.", frame("fs.stat", 8, { path: "/var" })),
  valid("fs.remove", "Remove a file or an empty directory.", frame("fs.remove", 9, { path: "/TMP/A.BIN" })),
  valid("fs.mkdir", "Make a directory without parents.", frame("fs.mkdir", 10, { path: "/var" })),
  valid("fs.mkdir parents", "Make a directory and its parents.", frame("fs.mkdir", 11, { path: "/var/share/proofs", parents: true })),
  valid("log", "A log line without fields.", frame("log", 12, { level: "info", message: "hello" })),
  valid("log with fields", "Structured fields, including a float.", frame("log", 13, { level: "warn", message: "slow", fields: { ms: 12.5, step: "hash" } })),
];

const stat = { name: "PROOF.BIN", type: "file" as const, size: 3, modified: "2024-01-01T00:00:00" };
const responses: GoldenVector[] = [
  valid("ok nil", "A request that returns nothing.", frame("ok", 12, { value: null })),
  valid("ok hello", "The guest's answer to hello, in the chosen version.", frame("ok", 1, { value: { version: [1, 1], guest: "zkguest-guest-sdk/0.1.0" } })),
  valid("error without a readable id", "The answer to a request whose id could not be read (SPEC.md §3.4): id 0, which no request has.", frame("error", 0, { code: "malformed_frame", message: "byte 1: a container declares 3 items but 2 bytes remain" })),
  valid("ok stat", "The answer to fs.store or fs.stat.", frame("ok", 8, { value: stat })),
  valid("ok list", "The answer to fs.list.", frame("ok", 7, { value: [stat, { name: "PROOFS", type: "dir", size: 0, modified: "2023-11-25T10:29:58" }] })),
  valid("ok bytes", "The answer to fs.read.", frame("ok", 5, { value: b(1, 2, 3) })),
  ...ERROR_CODES.map((code, i) =>
    valid(`error ${code}`, `An error response with code ${code}.`, frame("error", 20 + i, { code, message: code === "invalid_name" ? "proof.json: extension 'json' has 4 characters, FAT-16 allows 3" : `example ${code}` })),
  ),
];

// Frames a decoder must accept although they are not canonical: decode only.
const envelope = (body: string, id: string, kind: string, v: string) => `84a4626f6479${body}a26964${id}a46b696e64${kind}a176${v}`;
const kindStr = (k: string) => (0xa0 + k.length).toString(16) + ascii(k);
const accepted: GoldenVector[] = [
  {
    name: "keys out of order",
    description: "Envelope keys in the order v, id, kind, body: accepted as the canonical frame.",
    hex: toHex(plainEncode({ v: [1, 0], id: 1, kind: "fs.stat", body: { path: "/A" } })),
    value: toVectorJson(frame("fs.stat", 1, { path: "/A" }, [1, 0])),
  },
  {
    name: "integers in larger encodings",
    description: "id as uint32 and the version parts as uint16: accepted, read as the same integers.",
    hex: envelope("81a470617468a12f", "ce00000001", kindStr("fs.list"), "92cd0001cd0000"),
    value: toVectorJson(frame("fs.list", 1, { path: "/" }, [1, 0])),
  },
  {
    name: "minor extension: unknown fields",
    description: "A 1.1 frame with an unknown envelope key and an unknown body field: both ignored.",
    hex: toHex(plainEncode({ body: { path: "/A", follow: true }, id: 2, kind: "fs.stat", trace: "abc", v: [1, 1] })),
    value: toVectorJson(frame("fs.stat", 2, { path: "/A" }, [1, 1])),
  },
  {
    name: "floats under unknown keys",
    description: "A 1.2 frame with floats under an unknown envelope key and an unknown body field: ignored like any unknown key (SPEC.md §3.3).",
    hex: toHex(plainEncode({ body: { path: "/A", weight: 1.5 }, id: 4, kind: "fs.stat", trace: 0.25, v: [1, 2] })),
    value: toVectorJson(frame("fs.stat", 4, { path: "/A" }, [1, 2])),
  },
  {
    name: "float32 in a Value",
    description: "witness.get args as float32 1.5: read as the number 1.5 (a sender writes float64).",
    hex: envelope("81a461726773ca3fc00000", "02", kindStr("witness.get"), "920101"),
    value: toVectorJson(frame("witness.get", 2, { args: 1.5 })),
  },
  {
    name: "unknown error code",
    description: "An error code from a later minor: read as internal, the code kept in the message.",
    hex: toHex(plainEncode({ body: { code: "disk_on_fire", message: "hot" }, id: 3, kind: "error", v: [1, 1] })),
    value: toVectorJson(frame("error", 3, { code: "internal", message: "[disk_on_fire] hot" }, [1, 1])),
  },
];

const storeBody = "83a464617461c403010203a46d6f6465a6637265617465a470617468a12f"; // data 010203, mode create, path "/"
const invalid: GoldenVector[] = [
  { name: "empty", description: "No bytes at all.", hex: "", error: "malformed_frame" },
  { name: "truncated", description: "A valid fs.store frame cut in the middle of its data.", hex: envelope(storeBody, "01", kindStr("fs.store"), "920100").slice(0, 30), error: "malformed_frame" },
  { name: "trailing bytes", description: "A valid frame followed by one more byte.", hex: envelope("81a470617468a12f", "01", kindStr("fs.stat"), "920100") + "c0", error: "malformed_frame" },
  { name: "not a map", description: "An array instead of the envelope map.", hex: "9401020304", error: "malformed_frame" },
  { name: "duplicate key", description: "The body has the key path twice.", hex: envelope("82a470617468a141a470617468a142", "01", kindStr("fs.stat"), "920100"), error: "malformed_frame" },
  { name: "integer key", description: "A body map with an integer key.", hex: envelope("81" + "01" + "a141", "01", kindStr("fs.stat"), "920100"), error: "malformed_frame" },
  { name: "ext in body", description: "fs.store data sent as ext type 1 instead of bin.", hex: envelope("83a464617461d40101a46d6f6465a6637265617465a470617468a12f", "01", kindStr("fs.store"), "920100"), error: "malformed_frame" },
  { name: "timestamp ext", description: "A log field holding a MessagePack timestamp (ext -1).", hex: envelope("83a66669656c647381a174d6ff00000000a56c6576656ca4696e666fa76d657373616765a0", "01", kindStr("log"), "920100"), error: "malformed_frame" },
  { name: "invalid UTF-8", description: "A path string holding the bytes c3 28.", hex: envelope("81a470617468a2c328", "01", kindStr("fs.stat"), "920100"), error: "malformed_frame" },
  { name: "float id", description: "The id written as float64 1.0: refused, and answered with id 1 (SPEC.md §3.4).", hex: envelope("81a470617468a12f", "cb3ff0000000000000", kindStr("fs.stat"), "920100"), error: "malformed_frame", id: 1 },
  { name: "float offset", description: "fs.read offset written as float64 1.0: a float where an integer is required.", hex: envelope("82a66f6666736574cb3ff0000000000000a470617468a12f", "01", kindStr("fs.read"), "920100"), error: "malformed_frame" },
  { name: "integer beyond 2^53-1", description: "fs.read offset as uint64 2^53.", hex: envelope("82a66f6666736574cf0020000000000000a470617468a12f", "01", kindStr("fs.read"), "920100"), error: "malformed_frame" },
  { name: "huge declared bin", description: "A bin32 header claiming 4 GiB in a 50-byte frame.", hex: envelope("83a464617461c6ffffffff", "01", kindStr("fs.store"), "920100"), error: "malformed_frame" },
  { name: "huge declared map", description: "A map32 header claiming 2^32-1 entries.", hex: "dfffffffff", error: "malformed_frame" },
  { name: "too deep", description: "Arguments nested 40 arrays deep (the limit is 32 containers).", hex: envelope("81a461726773" + "91".repeat(40) + "c0", "01", kindStr("witness.get"), "920100"), error: "malformed_frame" },
  { name: "reserved byte", description: "The byte 0xc1, never used in MessagePack.", hex: "c1", error: "malformed_frame" },
  { name: "missing body field", description: "fs.store without mode.", hex: envelope("82a464617461c40101a470617468a12f", "01", kindStr("fs.store"), "920100"), error: "malformed_frame" },
  { name: "wrong field type", description: "fs.stat path as an integer.", hex: envelope("81a47061746801", "01", kindStr("fs.stat"), "920100"), error: "malformed_frame" },
  { name: "bad enum", description: "fs.store mode 'truncate'.", hex: envelope("83a464617461c40101a46d6f6465a87472756e63617465a470617468a12f", "01", kindStr("fs.store"), "920100"), error: "malformed_frame" },
  { name: "unsupported major", description: "A frame of version 2.0 to a 1.x peer.", hex: envelope("81a470617468a12f", "05", kindStr("fs.stat"), "920200"), error: "unsupported_version" },
  { name: "unknown kind", description: "A kind this version does not define.", hex: envelope("80", "05", kindStr("fs.chmod"), "920100"), error: "unknown_kind" },
  { name: "kind named like an Object member", description: "The kind 'constructor': unknown, however a peer stores its kinds.", hex: envelope("80", "05", kindStr("constructor"), "920100"), error: "unknown_kind" },
  { name: "several faults: the first check wins", description: "An unknown kind and the id written as float64 5.0: the kind is checked first (SPEC.md §3.3), answered with id 5.", hex: envelope("80", "cb4014000000000000", kindStr("fs.chmod"), "920100"), error: "unknown_kind", id: 5 },
  { name: "proto key", description: "A log field named __proto__.", hex: envelope("83a66669656c647381a95f5f70726f746f5f5f01a56c6576656ca4696e666fa76d657373616765a0", "01", kindStr("log"), "920100"), error: "malformed_frame" },
  { name: "duplicate id", description: "The envelope has the key id twice: no id can be read.", hex: "85a4626f647981a470617468a12fa2696401a2696402a46b696e64a766732e73746174a176920100", error: "malformed_frame" },
  { name: "NaN in a Value", description: "A log field holding float64 NaN: Values are finite (SPEC.md §4.1).", hex: envelope("83a66669656c647381a178cb7ff8000000000000a56c6576656ca4696e666fa76d657373616765a0", "01", kindStr("log"), "920100"), error: "malformed_frame" },
  { name: "infinity in args", description: "witness.get args float64 +infinity.", hex: envelope("81a461726773cb7ff0000000000000", "02", kindStr("witness.get"), "920100"), error: "malformed_frame" },
  { name: "float in a known limit", description: "hello with max_frame_bytes written as float64 4096.0: a float where an integer is required.", hex: envelope("83" + kindStr("host") + kindStr("h") + kindStr("limits") + "83" + kindStr("max_frame_bytes") + "cb40b0000000000000" + kindStr("max_log_message_bytes") + "cd2000" + kindStr("max_path_bytes") + "ccff" + kindStr("offer") + "91920100", "01", kindStr("hello"), "920100"), error: "malformed_frame" },
  { name: "proof.result: success without a proof", description: "success true and no proof: proof is present if and only if success is true (SPEC.md §5.1).", hex: toHex(encode(frame("proof.result", 3, { success: true, args: null, logs: [] } as never))), error: "malformed_frame" },
  { name: "proof.result: failure with a proof", description: "success false with both an error and a proof.", hex: toHex(encode(frame("proof.result", 3, { success: false, args: null, logs: [], proof: b(1), error: { code: "internal", message: "x" } } as never))), error: "malformed_frame" },
  { name: "nil for an optional field", description: "fs.read offset written as nil: an absent optional field is omitted, never nil (SPEC.md §3.2 rule 7), so nil is the wrong type.", hex: envelope("82a66f6666736574c0a470617468a12f", "01", kindStr("fs.read"), "920100"), error: "malformed_frame" },
  { name: "frame too large", description: "A valid 36-byte frame read with max_frame_bytes = 16.", hex: envelope("81a470617468a12f", "01", kindStr("fs.stat"), "920100"), error: "frame_too_large", max_frame_bytes: 16 },
];

// Each invalid vector says which id a receiver answers it with (SPEC.md §3.4), or has none when
// no id can be read; the generator takes it from the reference decoder, and vectors.test.ts
// holds the two together.
const invalidWithIds: GoldenVector[] = invalid.map((v) => {
  const got = decode(fromHex(v.hex), v.max_frame_bytes === undefined ? {} : { maxFrameBytes: v.max_frame_bytes });
  const id = got._tag === "Left" ? got.left.id : undefined;
  return id === undefined ? v : { ...v, id };
});

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.resolve(here, "../../../../protocol/vectors");
const files: Record<string, GoldenVector[]> = {
  "host-to-guest.json": hostToGuest,
  "guest-to-host.json": guestToHost,
  "responses.json": responses,
  "accepted.json": accepted,
  "invalid.json": invalidWithIds,
};
for (const [name, vectors] of Object.entries(files)) {
  writeFileSync(path.join(out, name), JSON.stringify(vectors, null, 2) + "\n");
  process.stdout.write(`${name}: ${vectors.length} vectors\n`);
}
