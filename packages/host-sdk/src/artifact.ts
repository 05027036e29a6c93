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
  },
);
export type Manifest = t.TypeOf<typeof ManifestC>;

const ArtifactFileC = struct("Artifact", { format: t.literal(ARTIFACT_FORMAT), manifest: ManifestC, code: BytesC });
export type Artifact = t.TypeOf<typeof ArtifactFileC>;

/** Largest artifact accepted: the guest's code is loaded into memory whole. */
export const MAX_ARTIFACT_BYTES = 64 * 1024 * 1024;

/**
 * The artifact's shape bounds its decoding (it is untrusted input, read on the host's main
 * thread): four levels of containers (the file, the manifest, its protocol range, a version),
 * a few dozen items in all (unknown fields included, which are dropped), short strings. The
 * only large value is the code, a bin, which is copied once. A file is scanned against these
 * bounds before it is read, so a file of another shape (arrays nested a million deep, a flat
 * array of millions of items) is refused at the first byte that breaks them, and any file is
 * refused or read in time and memory linear in its size.
 */
const ARTIFACT_BOUNDS: ScanBounds = { maxDepth: 4, maxItems: 64, maxStrBytes: 1024 };

export function programIdOf(code: Uint8Array): string {
  return createHash("sha256").update(code).digest("hex");
}

export interface ArtifactInput {
  readonly name: string;
  readonly engine: EngineKind;
  readonly code: Uint8Array;
  readonly protocol: { readonly min: Version; readonly max: Version };
  readonly sdk?: string;
}

/** Makes an artifact (its manifest's id computed from the code) and its file bytes. */
export function createArtifact(input: ArtifactInput): { artifact: Artifact; bytes: Uint8Array } {
  const manifest: Manifest = {
    engine: input.engine,
    id: programIdOf(input.code),
    name: input.name,
    protocol: { max: input.protocol.max, min: input.protocol.min },
    ...(input.sdk === undefined ? {} : { sdk: input.sdk }),
  };
  const artifact: Artifact = { code: input.code, format: ARTIFACT_FORMAT, manifest };
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
  const actual = programIdOf(artifact.code);
  if (artifact.manifest.id !== actual) throw notAnArtifact(`the manifest's id ${artifact.manifest.id} is not the code's SHA-256 ${actual}`);
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
