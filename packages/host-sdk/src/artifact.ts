import { encode as encodeMsgpack } from "@msgpack/msgpack";
import { BytesC, readMessagePack, scanMessagePack, struct, VersionC, ZkguestError, type ScanBounds, type Version } from "@zkguest/protocol";
import * as t from "io-ts";
import { createHash } from "node:crypto";
import fs from "node:fs";
import type { EngineKind } from "./engine/engine.js";

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

const ArtifactFileC = struct("Artifact", { format: t.literal(ARTIFACT_FORMAT), manifest: ManifestC, code: BytesC }, { circuit: BytesC });
export type Artifact = t.TypeOf<typeof ArtifactFileC>;

/** Largest artifact accepted: the guest's code is loaded into memory whole. */
export const MAX_ARTIFACT_BYTES = 64 * 1024 * 1024;

/**
 * The artifact's shape bounds its decoding (it is untrusted input, read on the host's main
 * thread): four levels of containers (the file, the manifest, its protocol range or circuit
 * reference, a version), a few dozen items in all (unknown fields included, which are
 * dropped), short strings. The only large values are the code and the circuit, bins, each
 * copied once. A file is scanned against these bounds before it is read, so a file of another
 * shape (arrays nested a million deep, a flat array of millions of items) is refused at the
 * first byte that breaks them, and any file is refused or read in time and memory linear in its
 * size.
 */
const ARTIFACT_BOUNDS: ScanBounds = { maxDepth: 4, maxItems: 64, maxStrBytes: 1024 };

/** Largest circuit an artifact carries (a prover loads it whole, and setup reads its constraints). */
export const MAX_CIRCUIT_BYTES = 16 * 1024 * 1024;

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest();

/** The program id: SHA-256 of the code, or with a circuit, SHA-256 of (SHA-256 of the code, SHA-256 of the circuit). */
export function programIdOf(code: Uint8Array, circuit?: Uint8Array): string {
  if (circuit === undefined) return sha256(code).toString("hex");
  return createHash("sha256").update(sha256(code)).update(sha256(circuit)).digest("hex");
}

export interface ArtifactInput {
  readonly name: string;
  readonly engine: EngineKind;
  readonly code: Uint8Array;
  readonly protocol: { readonly min: Version; readonly max: Version };
  readonly sdk?: string;
  /** A circuit for the program's prover, and its format (the prover's name for it). */
  readonly circuit?: { readonly format: string; readonly bytes: Uint8Array };
}

/** Makes an artifact (its manifest's id computed from the code) and its file bytes. */
export function createArtifact(input: ArtifactInput): { artifact: Artifact; bytes: Uint8Array } {
  const circuit = input.circuit;
  if (circuit !== undefined && circuit.bytes.length > MAX_CIRCUIT_BYTES) {
    throw new ZkguestError("limit_exceeded", `the circuit is ${circuit.bytes.length} bytes, the limit is ${MAX_CIRCUIT_BYTES}`);
  }
  const manifest: Manifest = {
    ...(circuit === undefined ? {} : { circuit: { format: circuit.format, sha256: sha256(circuit.bytes).toString("hex") } }),
    engine: input.engine,
    id: programIdOf(input.code, circuit?.bytes),
    name: input.name,
    protocol: { max: input.protocol.max, min: input.protocol.min },
    ...(input.sdk === undefined ? {} : { sdk: input.sdk }),
  };
  const artifact: Artifact = { ...(circuit === undefined ? {} : { circuit: circuit.bytes }), code: input.code, format: ARTIFACT_FORMAT, manifest };
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
  const { circuit, manifest } = artifact;
  if ((circuit === undefined) !== (manifest.circuit === undefined)) {
    throw notAnArtifact(circuit === undefined ? "the manifest names a circuit the artifact does not carry" : "the artifact carries a circuit its manifest does not name");
  }
  if (circuit !== undefined) {
    if (circuit.length > MAX_CIRCUIT_BYTES) throw notAnArtifact(`the circuit is ${circuit.length} bytes, the limit is ${MAX_CIRCUIT_BYTES}`);
    const hash = sha256(circuit).toString("hex");
    if (manifest.circuit!.sha256 !== hash) throw notAnArtifact(`the manifest's circuit sha256 ${manifest.circuit!.sha256} is not the circuit's ${hash}`);
  }
  const actual = programIdOf(artifact.code, circuit);
  if (manifest.id !== actual) throw notAnArtifact(`the manifest's id ${manifest.id} is not ${circuit === undefined ? "the code's SHA-256" : "the program id of its code and circuit"} ${actual}`);
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

function notAnArtifact(why: string): ZkguestError {
  return new ZkguestError("malformed_frame", `not a zkguest artifact: ${why}`);
}
