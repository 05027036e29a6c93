import { encode as encodeMsgpack } from "@msgpack/msgpack";
import { BytesC, readMessagePack, scanMessagePack, struct, VersionC, ZkguestError, type ScanBounds, type Version } from "@zkguest/protocol";
import * as t from "io-ts";
import { createHash } from "node:crypto";
import fs from "node:fs";
import type { EngineKind } from "./engine/engine.js";
import { sourceMapTooLarge } from "./source-map/map.js";

/**
 * A guest artifact (`NAME.zkg`): the guest's code and its manifest in one file, a MessagePack
 * map `{code, format, manifest}` (keys in canonical order). The program id is the SHA-256 of the
 * code, in lower-case hex: the same code is the same program, whatever its name. The manifest
 * repeats it, and reading an artifact checks that it matches.
 *
 * A program may carry a circuit (`zkguest build --circuit`): an optional `circuit` field with
 * what its prover needs (opaque here; its `format` names the prover that reads it), and an
 * optional manifest field `circuit: {format, sha256}`. The program id then covers both:
 * SHA-256 over the SHA-256 of the code followed by the SHA-256 of the circuit, so that the same
 * code with another circuit is another program.
 *
 * A JS program may carry its source map (`zkguest build` adds it, `--no-source-map` leaves it
 * out): an optional `sourceMap` field, the map's JSON in UTF-8, which the host reads only to
 * turn a failure's stack from `guest.js:1:16658` into the controller's own `controller.ts:5:11`
 * (source-map/). The sandbox never sees it. The program id covers it too, so that an artifact
 * stays one checked whole (a map cannot be swapped under a deployed program to make its stacks
 * point elsewhere): SHA-256 over the SHA-256 of the code, the SHA-256 of the circuit (32 zero
 * bytes without one) and the SHA-256 of the map. The same sources still build the same program;
 * an edit that moves lines but not the code changes it.
 */
export const ARTIFACT_FORMAT = "zkguest-artifact/1";

export const ManifestC = struct(
  "Manifest",
  {
    name: t.string,
    /** "js": one script for the QuickJS engine; "wasm": a wasm32-wasi module (SPEC.md §10). */
    engine: t.keyof({ js: null, wasm: null }),
    /** The protocol versions the guest speaks, lowest and highest. */
    protocol: struct("ProtocolRange", { min: VersionC, max: VersionC }),
    /** SHA-256 of `code`, lower-case hex: the program id. */
    id: t.string,
  },
  {
    /** The SDK that built it, e.g. "@zkguest/guest-sdk@0.1.0"; informational. */
    sdk: t.string,
    /** The circuit the artifact carries: its format (which prover reads it) and its SHA-256, lower-case hex. */
    circuit: struct("CircuitRef", { format: t.string, sha256: t.string }),
  },
);
export type Manifest = t.TypeOf<typeof ManifestC>;

const ArtifactFileC = struct("Artifact", { format: t.literal(ARTIFACT_FORMAT), manifest: ManifestC, code: BytesC }, { circuit: BytesC, sourceMap: BytesC });
export type Artifact = t.TypeOf<typeof ArtifactFileC>;

/** Largest artifact accepted: the guest's code is loaded into memory whole. */
export const MAX_ARTIFACT_BYTES = 64 * 1024 * 1024;

/**
 * The artifact's shape bounds its decoding (it is untrusted input, read on the host's main
 * thread): four levels of containers (the file, the manifest, its protocol range or circuit
 * reference, a version), a few dozen items in all (unknown fields included, which are
 * dropped), short strings. The only large values are the code, the circuit and the source map, bins, each
 * copied once. A file is scanned against these bounds before it is read, so a file of another
 * shape (arrays nested a million deep, a flat array of millions of items) is refused at the
 * first byte that breaks them, and any file is refused or read in time and memory linear in its
 * size.
 */
const ARTIFACT_BOUNDS: ScanBounds = { maxDepth: 4, maxItems: 64, maxStrBytes: 1024 };

/** Largest circuit an artifact carries (a prover loads it whole, and setup reads its constraints). */
export const MAX_CIRCUIT_BYTES = 16 * 1024 * 1024;

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest();

/** Where the circuit's hash goes in the program id of a program with a source map and no circuit. */
const NO_CIRCUIT = new Uint8Array(32);

/**
 * The program id: SHA-256 of the code; with a circuit, SHA-256 of (SHA-256 of the code, SHA-256
 * of the circuit); with a source map, SHA-256 of (SHA-256 of the code, SHA-256 of the circuit or
 * 32 zero bytes, SHA-256 of the map).
 */
export function programIdOf(code: Uint8Array, circuit?: Uint8Array, sourceMap?: Uint8Array): string {
  if (circuit === undefined && sourceMap === undefined) return sha256(code).toString("hex");
  const id = createHash("sha256").update(sha256(code)).update(circuit === undefined ? NO_CIRCUIT : sha256(circuit));
  return (sourceMap === undefined ? id : id.update(sha256(sourceMap))).digest("hex");
}

export interface ArtifactInput {
  readonly name: string;
  readonly engine: EngineKind;
  readonly code: Uint8Array;
  readonly protocol: { readonly min: Version; readonly max: Version };
  readonly sdk?: string;
  /** A circuit for the program's prover, and its format (the prover's name for it). */
  readonly circuit?: { readonly format: string; readonly bytes: Uint8Array };
  /** The code's source map (JSON, UTF-8), for the host to map a failure's stack to the sources. */
  readonly sourceMap?: Uint8Array;
}

/** Makes an artifact (its manifest's id computed from the code) and its file bytes. */
export function createArtifact(input: ArtifactInput): { artifact: Artifact; bytes: Uint8Array } {
  const { circuit, sourceMap } = input;
  if (circuit !== undefined && circuit.bytes.length > MAX_CIRCUIT_BYTES) {
    throw new ZkguestError("limit_exceeded", `the circuit is ${circuit.bytes.length} bytes, the limit is ${MAX_CIRCUIT_BYTES}`);
  }
  const mapTooLarge = sourceMap === undefined ? undefined : sourceMapTooLarge(sourceMap);
  if (mapTooLarge !== undefined) throw new ZkguestError("limit_exceeded", mapTooLarge);
  const manifest: Manifest = {
    ...(circuit === undefined ? {} : { circuit: { format: circuit.format, sha256: sha256(circuit.bytes).toString("hex") } }),
    engine: input.engine,
    id: programIdOf(input.code, circuit?.bytes, sourceMap),
    name: input.name,
    protocol: { max: input.protocol.max, min: input.protocol.min },
    ...(input.sdk === undefined ? {} : { sdk: input.sdk }),
  };
  const artifact: Artifact = {
    ...(circuit === undefined ? {} : { circuit: circuit.bytes }),
    code: input.code,
    format: ARTIFACT_FORMAT,
    manifest,
    ...(sourceMap === undefined ? {} : { sourceMap }),
  };
  return { artifact, bytes: encodeMsgpack(artifact, { sortKeys: true }) };
}

/** Reads an artifact file's bytes; throws ZkguestError (malformed_frame) naming what is wrong. */
export function readArtifact(bytes: Uint8Array): Artifact {
  if (bytes.length > MAX_ARTIFACT_BYTES) throw notAnArtifact(`${bytes.length} bytes, the limit is ${MAX_ARTIFACT_BYTES}`);
  const outOfBounds = scanMessagePack(bytes, ARTIFACT_BOUNDS);
  if (outOfBounds !== undefined) throw notAnArtifact(outOfBounds);
  const read = readMessagePack(bytes);
  if (!read.ok) throw notAnArtifact(read.why);
  const raw = read.value;
  const format = (raw as { format?: unknown } | null)?.format;
  if (typeof format === "string" && format !== ARTIFACT_FORMAT && format.startsWith("zkguest-artifact/")) {
    throw new ZkguestError("unsupported_version", `artifact format '${format}', this host reads '${ARTIFACT_FORMAT}'`);
  }
  const r = ArtifactFileC.decode(raw);
  if (r._tag === "Left") {
    const first = r.left[0];
    const where = first ? first.context.map((c) => c.key).filter(Boolean).join(".") : "";
    throw notAnArtifact(`${where || "the file"} is missing or of the wrong type`);
  }
  const artifact = r.right;
  const { circuit, manifest, sourceMap } = artifact;
  if ((circuit === undefined) !== (manifest.circuit === undefined)) {
    throw notAnArtifact(circuit === undefined ? "the manifest names a circuit the artifact does not carry" : "the artifact carries a circuit its manifest does not name");
  }
  if (circuit !== undefined) {
    if (circuit.length > MAX_CIRCUIT_BYTES) throw notAnArtifact(`the circuit is ${circuit.length} bytes, the limit is ${MAX_CIRCUIT_BYTES}`);
    const hash = sha256(circuit).toString("hex");
    if (manifest.circuit!.sha256 !== hash) throw notAnArtifact(`the manifest's circuit sha256 ${manifest.circuit!.sha256} is not the circuit's ${hash}`);
  }
  const mapTooLarge = sourceMap === undefined ? undefined : sourceMapTooLarge(sourceMap);
  if (mapTooLarge !== undefined) throw notAnArtifact(mapTooLarge);
  const actual = programIdOf(artifact.code, circuit, sourceMap);
  if (manifest.id !== actual) throw notAnArtifact(`the manifest's id ${manifest.id} is not ${idParts(circuit, sourceMap)} ${actual}`);
  return artifact;
}

/**
 * Reads an artifact file: its size is checked before it is read, so a huge file is refused
 * without loading it. Throws ZkguestError: `not_found` when there is no such file, and as
 * readArtifact.
 */
export function readArtifactFile(file: string): { artifact: Artifact; bytes: Uint8Array } {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") throw new ZkguestError("not_found", `${file}: no such file`);
    throw e;
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) throw new ZkguestError("not_found", `${file}: not a file`);
    if (stat.size > MAX_ARTIFACT_BYTES) throw notAnArtifact(`${file} has ${stat.size} bytes, the limit is ${MAX_ARTIFACT_BYTES}`);
    const bytes = fs.readFileSync(fd);
    return { artifact: readArtifact(bytes), bytes };
  } finally {
    fs.closeSync(fd);
  }
}

/** What the program id was computed from, for the message of an id that does not match. */
function idParts(circuit: Uint8Array | undefined, sourceMap: Uint8Array | undefined): string {
  if (circuit === undefined && sourceMap === undefined) return "the code's SHA-256";
  return `the program id of its code${circuit === undefined ? "" : sourceMap === undefined ? " and circuit" : ", circuit"}${sourceMap === undefined ? "" : " and source map"}`;
}

function notAnArtifact(why: string): ZkguestError {
  return new ZkguestError("malformed_frame", `not a zkguest artifact: ${why}`);
}
