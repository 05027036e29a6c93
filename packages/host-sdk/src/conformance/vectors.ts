import { decode as decodeMsgpack } from "@msgpack/msgpack";
import { fromHex, fromVectorJson, ZkguestError, type GoldenVector } from "@zkguest/protocol";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The golden vectors of protocol/vectors (SPEC.md §9), which the kits feed to the implementation under test. */
export type VectorFile = "host-to-guest" | "guest-to-host" | "responses" | "accepted" | "invalid";

export interface Vector {
  readonly name: string;
  readonly description: string;
  readonly bytes: Uint8Array;
  /** The decoded frame (bytes as Uint8Array), for valid and accepted vectors. */
  readonly value?: unknown;
  /** The code decoding must fail with, for invalid vectors. */
  readonly error?: string;
  /** For invalid vectors: the id the refusal answers; absent when none can be read (SPEC.md §3.4). */
  readonly id?: number;
  /** The receiver's max_frame_bytes the vector assumes, when not the default. */
  readonly maxFrameBytes?: number;
}

/**
 * This package's copy of protocol/vectors (dist/vectors, from dist/src/conformance/), put there by
 * the build (scripts/package-assets.mjs): it ships in the package, so the kits need no checkout.
 */
const VECTORS_DIR = new URL("../../vectors/", import.meta.url);

export function loadVectors(file: VectorFile): Vector[] {
  let text: string;
  try {
    text = readFileSync(new URL(`${file}.json`, VECTORS_DIR), "utf8");
  } catch (e) {
    throw new ZkguestError("not_found", `the protocol's golden vectors are not at ${fileURLToPath(VECTORS_DIR)} (this installation of @zkguest/host-sdk is incomplete: its build copies them there): ${e instanceof Error ? e.message : String(e)}`);
  }
  return (JSON.parse(text) as GoldenVector[]).map((v) => ({
    name: v.name,
    description: v.description,
    bytes: fromHex(v.hex),
    ...(v.value === undefined ? {} : { value: fromVectorJson(v.value) }),
    ...(v.error === undefined ? {} : { error: v.error }),
    ...(v.id === undefined ? {} : { id: v.id }),
    ...(v.max_frame_bytes === undefined ? {} : { maxFrameBytes: v.max_frame_bytes }),
  }));
}

/** The `kind` a frame's bytes claim, read leniently (undefined when they are not a map with a string kind). */
export function claimedKind(bytes: Uint8Array): string | undefined {
  try {
    const raw = decodeMsgpack(bytes) as { kind?: unknown } | null;
    return typeof raw?.kind === "string" ? raw.kind : undefined;
  } catch {
    return undefined;
  }
}
