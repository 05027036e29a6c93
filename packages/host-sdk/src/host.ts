import { Volume } from "@zkguest/fat16";
import { failure, ValueC, ZkguestError, type Failure, type LogEntry, type Value, type Witness } from "@zkguest/protocol";
import { either as E } from "fp-ts";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Artifact } from "./artifact.js";
import { canonicalEncode, sha256Hex } from "./canonical.js";
import { DiskQueue, KeyedQueue } from "./disk-queue.js";
import { guestStack } from "./engine/engine.js";
import type { PhaseDisk } from "./phase-disk.js";
import { Lru } from "./lru.js";
import { WorkerPool } from "./pool/pool.js";
import { DevProver } from "./prover/dev-prover.js";
import { programRef, type ProgramRef, type ProofInfo, type Prover } from "./prover/prover.js";
import { checkDiskImage, DEFAULT_DISK_BYTES, DirectoryRegistry, ensureDiskImage } from "./registry/directory-registry.js";
import type { Registry } from "./registry/registry.js";
import type { FileRecord, LogRecord, RunError, RunReport } from "./report.js";
import { DEFAULT_RUN_LIMITS, resolveLimits, type RunLimits } from "./run-limits.js";
import { errorRecord, type PhaseInput, type PhaseOutcome, type ProofOutcome } from "./session/session.js";
import { SourceMapper } from "./source-map/mapper.js";

const DEFAULT_ARTIFACT_CACHE_BYTES = 256 * 1024 * 1024;

export interface HostOptions {
  /** Where the default registry keeps artifacts and disks (default: a temporary directory, removed by close()). */
  readonly dataDir?: string;
  /** Where programs live (default: a DirectoryRegistry in `dataDir`). */
  readonly registry?: Registry;
  /** The prover (default: a DevProver with this `devMode`). */
  readonly prover?: Prover;
  /** Whether development proofs verify (default false). */
  readonly devMode?: boolean;
  /** Worker threads (default: the number of CPUs). */
  readonly poolSize?: number;
  /** Limits of every run, over DEFAULT_RUN_LIMITS; a run can override them. */
  readonly limits?: Partial<RunLimits>;
  /** Size of disks the host formats (the default registry's, and `image` files that do not exist yet). Default 16 MiB. */
  readonly diskBytes?: number;
  /** How long past its time limit a stuck guest runs before its worker is terminated (default 250 ms). */
  readonly graceMs?: number;
  /** Each sandbox process's JS heap (default 256 MiB): a phase that exhausts it fails with the memory limit and the sandbox is replaced. */
  readonly workerHeapBytes?: number;
  /** Bytes of compiled guests (code, compiled module, snapshot) each sandbox keeps for the next runs (default 128 MiB). */
  readonly sandboxCacheBytes?: number;
  /** Bytes of artifacts the host keeps in memory (default 256 MiB); others are read again from the registry when they run. */
  readonly artifactCacheBytes?: number;
}

export interface RunOptions {
  /** This run's limits, over the host's. */
  readonly limits?: Partial<RunLimits>;
  /** A disk image to use instead of the registry's disk for the program (formatted if it does not exist). */
  readonly image?: string;
  /**
   * Whose load this run is, for fair scheduling (default: the program). The pool shares the
   * sandboxes fairly between tenants: one tenant's flood of runs does not starve another's.
   */
  readonly tenant?: string;
  /**
   * The disk's keeper, asked for the disk before each phase that touches it (instead of `image`
   * or the registry's disk); it orders the phases on its disk itself.
   */
  readonly disk?: PhaseDisk;
}

/**
 * The host: deploys guest programs and runs them in a pool of sandboxes through the proof
 * lifecycle (SPEC.md §2).
 *
 * ```ts
 * const host = await Host.create({ dataDir: ".zkguest", devMode: true });
 * const program = await host.deploy(readFileSync("controller.zkg"));
 * const report = await host.prove(program, { block: 123 });
 * if (report.status === "failed") console.error(report.error, report.logs);
 * const stored = await host.readFile(program, "/var/share/proof.bin");
 * await host.close();
 * ```
 *
 * A run is two phases, each on a fresh instance in a sandbox process: the witness step, then
 * (for `prove`) proving and the entrypoint, which is called whether proving succeeded or not. A
 * run never throws for what the guest does: its report says how it went. The phases that touch
 * a program's disk run one at a time, the entrypoints in the order their runs began; proving
 * holds no disk, so a program's runs prove in parallel. Runs of different programs go in
 * parallel, shared fairly between tenants.
 */
export class Host {
  private readonly artifacts: Lru<string, Artifact>;
  /** One phase at a time per disk image. */
  private readonly disks = new DiskQueue();
  /** The entrypoints of a disk's runs, in the order the runs began (each then takes its turn on the disk). */
  private readonly entrypoints = new KeyedQueue();
  private readonly sourceMaps = new SourceMapper();
  private closed = false;

  private constructor(
    private readonly registry: Registry,
    private readonly prover: Prover,
    private readonly pool: WorkerPool,
    private readonly limits: RunLimits,
    private readonly diskBytes: number,
    /** A temporary data directory this host made, removed by close(). */
    private readonly ownedDir: string | undefined,
    artifactCacheBytes: number,
  ) {
    this.artifacts = new Lru(artifactCacheBytes, () => {}, (artifact) => artifact.code.length + (artifact.sourceMap?.length ?? 0));
  }

  static async create(options: HostOptions = {}): Promise<Host> {
    const limits = resolveLimits(DEFAULT_RUN_LIMITS, options.limits);
    const diskBytes = options.diskBytes ?? DEFAULT_DISK_BYTES;
    let ownedDir: string | undefined;
    let registry = options.registry;
    if (registry === undefined) {
      const dir = options.dataDir ?? (ownedDir = mkdtempSync(path.join(tmpdir(), "zkguest-host-")));
      registry = new DirectoryRegistry(dir, { diskBytes });
    }
    const prover = options.prover ?? new DevProver({ devMode: options.devMode ?? false });
    const pool = new WorkerPool({
      ...(options.poolSize === undefined ? {} : { size: options.poolSize }),
      ...(options.graceMs === undefined ? {} : { graceMs: options.graceMs }),
      ...(options.workerHeapBytes === undefined ? {} : { heapBytes: options.workerHeapBytes }),
      ...(options.sandboxCacheBytes === undefined ? {} : { cacheBytes: options.sandboxCacheBytes }),
      stackBytes: limits.stackBytes,
      memoryBytes: limits.memoryBytes,
    });
    return new Host(registry, prover, pool, limits, diskBytes, ownedDir, options.artifactCacheBytes ?? DEFAULT_ARTIFACT_CACHE_BYTES);
  }

  /** Deploys an artifact (`.zkg` bytes); gives its program id, the lower-case hex SHA-256 of its code. */
  async deploy(artifactBytes: Uint8Array): Promise<string> {
    this.checkOpen();
    const artifact = await this.registry.put(artifactBytes);
    this.artifacts.set(artifact.manifest.id, artifact);
    return artifact.manifest.id;
  }

  /**
   * The full lifecycle: the witness step with `args`, proving, then the entrypoint with the
   * outcome (the proof, or the error). Status `proved` when all three succeeded.
   */
  async prove(programId: string, args: Value, options: RunOptions = {}): Promise<RunReport> {
    return this.run(programId, args, options, true);
  }

  /** A dry run of the witness step alone (like RISC Zero's and SP1's execute): status `executed` when it succeeded. */
  async execute(programId: string, args: Value, options: RunOptions = {}): Promise<RunReport> {
    return this.run(programId, args, options, false);
  }

  /** Reads a file from the program's disk (or from `image`), in turn with the program's runs. */
  async readFile(programId: string, filePath: string, options: { image?: string } = {}): Promise<Uint8Array> {
    this.checkOpen();
    await this.artifact(programId);
    const image = await this.imageFor(programId, options.image);
    return this.disks.run(image, async () => {
      const volume = Volume.open(image, { readOnly: true });
      try {
        return volume.readFile(filePath);
      } finally {
        volume.close();
      }
    });
  }

  /** Checks a report's proof with the host's prover; throws a ZkguestError naming why it is not accepted. */
  async verify(report: Pick<RunReport, "program" | "proof" | "witnesses">): Promise<void> {
    if (report.proof === undefined) throw new ZkguestError("not_found", "the report has no proof");
    const program = programRef(await this.artifact(report.program));
    const verdict = await this.prover.verify(report.proof, program, report.witnesses);
    if (E.isLeft(verdict)) throw ZkguestError.from(verdict.left);
  }

  /**
   * For operators' monitoring: the sandbox processes' ids (undefined for a slot between two
   * sandboxes), how many were started, stopped by the watchdog, or died.
   */
  stats(): { sandboxes: (number | undefined)[]; started: number; hardStops: number; died: number } {
    const { workersStarted, hardStops, workersDied } = this.pool.stats;
    return { sandboxes: this.pool.pids, started: workersStarted, hardStops, died: workersDied };
  }

  /** Stops the workers (runs still going are rejected) and removes the temporary data directory, if the host made one. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.close();
    await this.sourceMaps.close();
    this.disks.close();
    if (this.ownedDir !== undefined) rmSync(this.ownedDir, { recursive: true, force: true });
  }

  /** A run's report, its stacks mapped to the guest's sources when its artifact carries a source map (source-map/). */
  private async run(programId: string, args: Value, options: RunOptions, prove: boolean): Promise<RunReport> {
    this.checkOpen();
    const checked = ValueC.decode(args);
    if (E.isLeft(checked)) throw new ZkguestError("malformed_frame", `args: not a protocol Value (${checked.left[0]?.message ?? "invalid"})`);
    const artifact = await this.artifact(programId);
    return this.sourceMaps.mapReport(await this.lifecycle(artifact, args, options, prove), artifact.sourceMap);
  }

  private async lifecycle(artifact: Artifact, args: Value, options: RunOptions, prove: boolean): Promise<RunReport> {
    const program = programRef(artifact);
    const limits = resolveLimits(this.limits, options.limits, program.manifest.engine);
    const { disk } = options;
    const image = disk === undefined ? await this.imageFor(program.id, options.image) : undefined;
    const onImage = (at: string, input: PhaseInput) =>
      this.pool.run({ program: program.id, tenant: options.tenant ?? program.id, engine: program.manifest.engine, code: artifact.code, image: at, input });
    // Each phase takes its turn on the disk: the PhaseDisk's, or the host's queue of the image (with its lock).
    const phase = (input: PhaseInput) => (disk !== undefined ? disk.use(input.phase, (at) => onImage(at, input)) : this.disks.run(image!, () => onImage(image!, input)));
    const witness = phase({ phase: "witness", args, limits });
    if (!prove) return report(program.id, await witness);
    // A guest that cannot speak the host's protocol cannot be told anything either.
    const spoken = (w: PhaseOutcome) => w.error?.code !== "unsupported_version";
    const proving = witness.then((w) => (w.error === undefined ? this.proveWitnesses(w.witnesses ?? [], program) : undefined));
    const entrypointPhase = async () => {
      const [w, p] = await Promise.all([witness, proving]);
      return spoken(w) ? phase({ phase: "entrypoint", args, limits, proof: proofOutcome(w, p) }) : undefined;
    };
    // The entrypoint's place in line is taken now, so that a program's entrypoints store in the order their runs began.
    const entrypoint = image === undefined ? entrypointPhase() : this.entrypoints.run(image, entrypointPhase);
    const [w, p, e] = await Promise.all([witness, proving, entrypoint]);
    if (!spoken(w)) return report(program.id, w, {});
    return report(program.id, w, { ...(p === undefined ? {} : { proving: p }), ...(e === undefined ? {} : { entrypoint: e }) });
  }

  /** Runs the prover; a thrown error is a failed proving like a Left. */
  private async proveWitnesses(witnesses: readonly Witness[], program: ProgramRef): Promise<Proving> {
    const started = performance.now();
    let result: E.Either<Failure, Uint8Array>;
    try {
      result = await this.prover.prove(witnesses, program);
    } catch (e) {
      result = E.left(failure(e instanceof ZkguestError ? e.code : "internal", `the ${this.prover.name} prover failed: ${e instanceof Error ? e.message : String(e)}`));
    }
    const ms = performance.now() - started;
    const info = E.isRight(result) ? this.prover.describe?.(result.right) : undefined;
    return { result, ms, ...(info === undefined ? {} : { info }) };
  }

  private async artifact(programId: string): Promise<Artifact> {
    let artifact = this.artifacts.get(programId);
    if (artifact === undefined) {
      artifact = await this.registry.get(programId);
      if (artifact === undefined) throw new ZkguestError("not_found", `no program ${programId} is deployed on this host`);
      this.artifacts.set(programId, artifact);
    }
    return artifact;
  }

  private async imageFor(programId: string, image: string | undefined): Promise<string> {
    if (image === undefined) return this.registry.diskImage(programId);
    const resolved = path.resolve(image);
    ensureDiskImage(resolved, this.diskBytes);
    checkDiskImage(resolved, image);
    return resolved;
  }

  private checkOpen(): void {
    if (this.closed) throw new ZkguestError("invalid_state", "the host is closed");
  }
}

/**
 * A log line as the entrypoint receives it (proof.result's `logs`): the host's lines say so in
 * their fields, with the guest's own frames of their stack only (the report keeps the rest).
 */
function logEntry(record: LogRecord): LogEntry {
  const { level, message } = record;
  if (record.source === "guest") return { level, message, ...(record.fields === undefined ? {} : { fields: record.fields }) };
  const stack = record.stack === undefined ? undefined : guestStack(record.stack);
  return { level, message, fields: { source: "host", ...(stack === undefined ? {} : { stack }) } };
}

/** What the prover gave, how long it took, and what it says about the proof. */
interface Proving {
  readonly result: E.Either<Failure, Uint8Array>;
  readonly ms: number;
  readonly info?: ProofInfo;
}

/** What the entrypoint is told (proof.result): the proof, or why there is none (the witness step's failure or the prover's). */
function proofOutcome(witness: PhaseOutcome, proving: Proving | undefined): ProofOutcome {
  const logs = witness.logs.map(logEntry);
  if (proving !== undefined && E.isRight(proving.result)) return { success: true, proof: proving.result.right, logs };
  if (proving !== undefined && E.isLeft(proving.result)) return { success: false, error: proving.result.left, stage: "prove", logs };
  return { success: false, error: failure(witness.error!.code, witness.error!.message), stage: "witness", logs };
}

/**
 * The run's report. Without `lifecycle` it is a dry run (execute); with it, the proving and the
 * entrypoint that followed the witness step (either absent when it did not happen).
 */
function report(program: string, witness: PhaseOutcome, lifecycle?: { proving?: Proving; entrypoint?: PhaseOutcome }): RunReport {
  const witnesses = witness.witnesses ?? [];
  const entrypoint = lifecycle?.entrypoint;
  const proved = lifecycle?.proving?.result;
  const provingError: RunError | undefined = proved !== undefined && E.isLeft(proved) ? proved.left : undefined;
  const error = witness.error ?? provingError ?? entrypoint?.error;
  return {
    program,
    status: error !== undefined ? "failed" : lifecycle !== undefined ? "proved" : "executed",
    ...(error === undefined ? {} : { error }),
    witnessesHash: sha256Hex(canonicalEncode(witnesses)),
    witnesses,
    ...(proved !== undefined && E.isRight(proved) ? { proof: proved.right } : {}),
    ...(lifecycle?.proving?.info === undefined ? {} : { proofInfo: lifecycle.proving.info }),
    logs: [...witness.logs, ...(provingError === undefined ? [] : [errorRecord("entrypoint", provingError)]), ...(entrypoint?.logs ?? [])],
    files: mergeFiles(witness.files, entrypoint?.files ?? []),
    resources: {
      witnessMs: toMicrosecond(witness.durationMs),
      proveMs: toMicrosecond(lifecycle?.proving?.ms ?? 0),
      entrypointMs: toMicrosecond(entrypoint?.durationMs ?? 0),
      peakMemoryBytes: Math.max(witness.peakMemoryBytes, entrypoint?.peakMemoryBytes ?? 0),
      hostCalls: witness.hostCalls + (entrypoint?.hostCalls ?? 0),
      bytesStored: witness.bytesStored + (entrypoint?.bytesStored ?? 0),
    },
  };
}

/**
 * Milliseconds rounded to the microsecond (at most 3 decimals): what the clock measures with
 * meaning, and what a report shows without digits of float noise (64.319775000000002).
 */
function toMicrosecond(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/** Files of both phases, by path; the entrypoint's size wins for a file both wrote. */
function mergeFiles(first: readonly FileRecord[], second: readonly FileRecord[]): FileRecord[] {
  const files = new Map<string, number>();
  for (const f of [...first, ...second]) files.set(f.path, f.bytes);
  return Array.from(files, ([p, bytes]) => ({ path: p, bytes }));
}
