import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { PROTOCOL_VERSION, ZkguestError, type Value } from "@zkguest/protocol";
import { createArtifact } from "../artifact.js";
import { Host, type HostOptions } from "../host.js";
import type { RunReport } from "../report.js";
import type { RunLimits } from "../run-limits.js";

/**
 * A guest for testHost: the bytes of a `.zkg` artifact, what `buildArtifact` (from the `zkguest`
 * package) returns for a controller, or the path of a `.zkg` artifact or a `.wasm` module.
 */
export type TestGuest = Uint8Array | { readonly bytes: Uint8Array } | string;

export interface TestRunOptions {
  /** This run's limits, over the host's defaults (DEFAULT_RUN_LIMITS, as `zkguest run` and a Host use). */
  readonly limits?: Partial<RunLimits>;
  /** The disk image to run on: a previous run's `image`, to go on with its disk. Default: a fresh one. */
  readonly image?: string;
}

/**
 * A test host's options: those of a Host (the prover, the limits, dev mode, disk size, ...),
 * except where it keeps its files (a temporary directory of its own). Defaults: the dev prover,
 * dev mode on (so dev proofs verify), one worker.
 */
export type TestHostOptions = Omit<HostOptions, "dataDir" | "registry">;

/** A run's report, with the disk it ran on. */
export interface TestRun extends RunReport {
  /** The FAT-16 disk image the run used (a temporary file, removed with the host). */
  readonly image: string;
  /** Reads a file the guest stored, from the run's disk. */
  readFile(path: string): Promise<Uint8Array>;
}

/**
 * An in-process host for a guest author's tests: the Host of this package (the same sandbox,
 * limits, dev prover and FAT-16 disks as `zkguest run`), made on first use with one worker, a
 * temporary data directory and a fresh 16 MiB disk image per run unless told otherwise.
 *
 * ```ts
 * import { testHost } from "@zkguest/host-sdk/testing";
 *
 * const guest = await buildArtifact("controller.ts", "my-guest"); // from the CLI's package, zkguest
 * const run = await testHost.prove(guest, { numbers: [1, 2, 3] });
 * expect(run.status).to.equal("proved");
 * expect(await run.readFile("/var/share/proof.bin")).to.deep.equal(run.proof);
 * ```
 *
 * With a prover of your own (a real circuit's, or one that fails on purpose to test what the
 * entrypoint does then), or other Host options: `new TestHost({ prover, limits: { timeMs: 500 } })`.
 * The host lives until `close()` or the end of the process (its workers do not keep the process
 * alive, and its temporary files are removed at exit); a prover passed in is the caller's to close.
 */
export class TestHost {
  constructor(private readonly options: TestHostOptions = {}) {}

  private host: Promise<Host> | undefined;
  private dir: string | undefined;
  private images = 0;
  private readonly programs = new Map<string, Promise<string>>();
  private readonly cleanup = () => this.removeFiles();

  /** The full lifecycle: witness step, the prover (default the dev prover), entrypoint. */
  async prove(guest: TestGuest, args: Value, options: TestRunOptions = {}): Promise<TestRun> {
    return this.run(guest, args, options, true);
  }

  /** The witness step alone (a dry run). */
  async execute(guest: TestGuest, args: Value, options: TestRunOptions = {}): Promise<TestRun> {
    return this.run(guest, args, options, false);
  }

  /** Stops the host and removes its temporary files; the next run starts a new one. */
  async close(): Promise<void> {
    const host = this.host;
    this.host = undefined;
    this.programs.clear();
    if (host) await (await host).close();
    this.removeFiles();
    process.off("exit", this.cleanup);
  }

  private async run(guest: TestGuest, args: Value, options: TestRunOptions, prove: boolean): Promise<TestRun> {
    const host = await this.start();
    const program = await this.deploy(host, guest);
    const image = options.image ?? path.join(this.dir!, `disk-${++this.images}.img`);
    const runOptions = { image, ...(options.limits === undefined ? {} : { limits: options.limits }) };
    const report = prove ? await host.prove(program, args, runOptions) : await host.execute(program, args, runOptions);
    return { ...report, image, readFile: (file: string) => host.readFile(program, file, { image }) };
  }

  private start(): Promise<Host> {
    if (this.host === undefined) {
      this.dir = mkdtempSync(path.join(tmpdir(), "zkguest-test-host-"));
      process.on("exit", this.cleanup);
      this.host = Host.create({ devMode: true, poolSize: 1, ...this.options, dataDir: path.join(this.dir, "data") });
    }
    return this.host;
  }

  /** Deploys each distinct artifact once. */
  private deploy(host: Host, guest: TestGuest): Promise<string> {
    const bytes = artifactBytes(guest);
    const key = createHash("sha256").update(bytes).digest("hex");
    let program = this.programs.get(key);
    if (program === undefined) {
      program = host.deploy(bytes);
      this.programs.set(key, program);
    }
    return program;
  }

  private removeFiles(): void {
    if (this.dir !== undefined) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }
}

function artifactBytes(guest: TestGuest): Uint8Array {
  if (guest instanceof Uint8Array) return guest;
  if (typeof guest !== "string") return guest.bytes;
  const ext = path.extname(guest).toLowerCase();
  if (ext === ".zkg") return readFileSync(guest);
  if (ext === ".wasm") {
    const code = readFileSync(guest);
    return createArtifact({ name: path.basename(guest, ext), engine: "wasm", code, protocol: { min: PROTOCOL_VERSION, max: PROTOCOL_VERSION } }).bytes;
  }
  throw new ZkguestError("invalid_path", `${guest}: testHost runs a .zkg artifact or a .wasm module; build a controller with buildArtifact from the zkguest package`);
}

/** The process's test host (see TestHost). */
export const testHost = new TestHost();
