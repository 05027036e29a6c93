import { struct, ZkguestError } from "@zkguest/protocol";
import * as t from "io-ts";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

/**
 * Proving and verification keys, one directory per circuit (its SHA-256) under a keys
 * directory, made once by `setup` and read by every proof and verification:
 *
 * ```
 * KEYS/<circuit sha256>/circuit.zkey             the proving key (snarkjs's zkey)
 * KEYS/<circuit sha256>/verification_key.json    the verification key (snarkjs's format)
 * KEYS/<circuit sha256>/setup.json               how they were made (below)
 * KEYS/dev-ptau/pot<N>.ptau                      development powers of tau, reused by later dev setups
 * ```
 */
export const KEYS_FORMAT = "zkguest-groth16-keys/1";

export const CeremonyC = t.keyof({ dev: null, ptau: null });
/** `dev`: a local development ceremony, insecure; `ptau`: phase 1 from an operator's powers-of-tau file. */
export type Ceremony = t.TypeOf<typeof CeremonyC>;

const SetupRecordC = struct(
  "SetupRecord",
  {
    format: t.literal(KEYS_FORMAT),
    /** The circuit's SHA-256 (the artifact manifest's `circuit.sha256`). */
    circuit: t.string,
    ceremony: CeremonyC,
    /** The ceremony's size: 2^power points, at least the circuit's constraints and public signals. */
    power: t.number,
    constraints: t.number,
    /** SHA-256 of verification_key.json as written here: what a proof names its key by. */
    vkeySha256: t.string,
  },
  {
    /** The powers-of-tau file phase 1 came from (`ptau` ceremonies): its SHA-256 and its power. */
    ptau: struct("PtauRef", { sha256: t.string, power: t.number }),
  },
);
export type SetupRecord = t.TypeOf<typeof SetupRecordC>;

/** The keys of one circuit, as verification and proving read them. */
export interface CircuitKeys {
  readonly record: SetupRecord;
  /** The verification key, parsed from verification_key.json. */
  readonly vkey: Record<string, unknown>;
  readonly paths: KeyPaths;
  /** When setup.json was last written: a later setup replaces the keys. */
  readonly version: number;
}

export interface KeyPaths {
  readonly dir: string;
  readonly zkey: string;
  readonly vkey: string;
  readonly record: string;
}

const HASH = /^[0-9a-f]{64}$/;

export const sha256Hex = (bytes: Uint8Array | string): string => createHash("sha256").update(bytes).digest("hex");

/** The verification key's file bytes: one format, so that its SHA-256 names it. */
export function vkeyBytes(vkey: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(vkey, null, 1) + "\n", "utf8");
}

export class KeyStore {
  private readonly cache = new Map<string, CircuitKeys>();

  constructor(readonly dir: string) {}

  paths(circuitSha256: string): KeyPaths {
    if (!HASH.test(circuitSha256)) throw new ZkguestError("malformed_frame", `'${circuitSha256.slice(0, 80)}' is not a circuit's SHA-256`);
    const dir = path.join(this.dir, circuitSha256);
    return { dir, zkey: path.join(dir, "circuit.zkey"), vkey: path.join(dir, "verification_key.json"), record: path.join(dir, "setup.json") };
  }

  /** Where a development ceremony of 2^power keeps its prepared powers of tau. */
  devPtauPath(power: number): string {
    return path.join(this.dir, "dev-ptau", `pot${power}.ptau`);
  }

  /**
   * The keys of a circuit, or undefined if none were made. Keys that are there but do not
   * agree (a damaged record, a verification key whose hash is not the recorded one) throw
   * ZkguestError malformed_frame: they are never used.
   */
  load(circuitSha256: string): CircuitKeys | undefined {
    const paths = this.paths(circuitSha256);
    const stat = fs.statSync(paths.record, { throwIfNoEntry: false });
    if (stat === undefined) return undefined;
    const cached = this.cache.get(circuitSha256);
    if (cached !== undefined && cached.version === stat.mtimeMs) return cached;
    const bad = (why: string) => new ZkguestError("malformed_frame", `the keys in ${paths.dir}: ${why}`);
    const decoded = SetupRecordC.decode(parseJson(fs.readFileSync(paths.record, "utf8"), bad));
    if (decoded._tag === "Left") throw bad("setup.json is not a zkguest key record");
    const record = decoded.right;
    if (record.circuit !== circuitSha256) throw bad(`setup.json is for circuit ${record.circuit}`);
    const vkeyFile = fs.readFileSync(paths.vkey);
    if (sha256Hex(vkeyFile) !== record.vkeySha256) throw bad("verification_key.json is not the one setup made (its SHA-256 differs)");
    const keys: CircuitKeys = { record, vkey: parseJson(vkeyFile.toString("utf8"), bad) as Record<string, unknown>, paths, version: stat.mtimeMs };
    this.cache.set(circuitSha256, keys);
    return keys;
  }

  /** Puts a circuit's new keys in place: written aside, then renamed over the old directory's files, the record last. */
  save(circuitSha256: string, zkey: Uint8Array, vkey: unknown, record: Omit<SetupRecord, "format" | "vkeySha256" | "circuit">): CircuitKeys {
    const paths = this.paths(circuitSha256);
    fs.mkdirSync(paths.dir, { recursive: true });
    const vkeyFile = vkeyBytes(vkey);
    const full: SetupRecord = { format: KEYS_FORMAT, circuit: circuitSha256, ...record, vkeySha256: sha256Hex(vkeyFile) };
    // The record goes last: until it is renamed into place, load() sees the old keys or none.
    fs.rmSync(paths.record, { force: true });
    writeAtomically(paths.zkey, zkey);
    writeAtomically(paths.vkey, vkeyFile);
    writeAtomically(paths.record, Buffer.from(JSON.stringify(full, null, 1) + "\n", "utf8"));
    this.cache.delete(circuitSha256);
    return this.load(circuitSha256)!;
  }
}

/** Writes a file aside, then renames it into place, so a crash never leaves half of it. */
export function writeAtomically(file: string, bytes: Uint8Array): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const aside = `${file}.${randomBytes(6).toString("hex")}.tmp`;
  fs.writeFileSync(aside, bytes, { flag: "wx" });
  fs.renameSync(aside, file);
}

function parseJson(text: string, bad: (why: string) => Error): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw bad(`not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}
