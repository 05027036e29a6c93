import { formatVolume } from "@zkguest/fat16";
import type { LogEntry, Value } from "@zkguest/protocol";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { EngineLimits, HostCallHandler, LoadedGuest } from "../engine/engine.js";
import type { LogRecord } from "../report.js";
import { DEFAULT_RUN_LIMITS, resolveLimits, type RunLimits } from "../run-limits.js";
import { LazyDisk } from "../session/disk.js";
import { describe, runPhase, type PhaseOutcome } from "../session/session.js";
import { HOST_KIT_LIMITS, type HostRun } from "./host-kit.js";

export interface SessionHostOptions {
  /** Over DEFAULT_RUN_LIMITS and HOST_KIT_LIMITS. */
  readonly limits?: Partial<RunLimits>;
  /** Size of the fresh disk image (default 16 MiB). */
  readonly diskBytes?: number;
  /**
   * Wraps the host's answers to the guest's requests: how the tests make a deliberately broken
   * host (one that turns invalid_name into ok, or drops a log field) for the kit to catch.
   */
  readonly wrap?: (handler: HostCallHandler) => HostCallHandler;
  /** Changes the logs proof.result carries (how the tests make a host that reorders or loses them). */
  readonly proofLogs?: (logs: LogEntry[]) => LogEntry[];
}

/** What the entrypoint is handed when proving "succeeds" here: no prover runs, the kit checks the host's side of the protocol. */
const STAND_IN_PROOF = new TextEncoder().encode("zkguest conformance stand-in proof");

/**
 * Runs `guest` through a whole run on the host-sdk's session layer, in this thread: the witness
 * step, then the entrypoint with a stand-in proof and the witness step's logs, on a fresh FAT-16
 * disk image in a temporary directory (removed afterwards). It is the host-sdk's protocol
 * implementation without the pool, registry and prover of the Host around it (runOnHost runs
 * the Host), which lets the tests break it on purpose.
 */
export function runOnSessionHost(guest: LoadedGuest, args: Value, options: SessionHostOptions = {}): HostRun {
  const limits = resolveLimits(resolveLimits(DEFAULT_RUN_LIMITS, HOST_KIT_LIMITS), options.limits);
  const dir = mkdtempSync(path.join(tmpdir(), "zkguest-conformance-"));
  const image = path.join(dir, "disk.img");
  const disk = new LazyDisk(image, { bytes: limits.quotaBytes, files: limits.quotaFiles });
  const wrapped = options.wrap === undefined ? guest : wrapHost(guest, options.wrap);
  try {
    formatVolume(image, { size: options.diskBytes ?? 16 * 1024 * 1024 });
    const witness = runPhase(wrapped, disk, { phase: "witness", args, limits });
    if (witness.error) return failed(witness, []);
    const logs = (options.proofLogs ?? ((l: LogEntry[]) => l))(witness.logs.map(logEntry));
    const entrypoint = runPhase(wrapped, disk, { phase: "entrypoint", args, limits, proof: { success: true, proof: STAND_IN_PROOF, logs } });
    return entrypoint.error ? failed(entrypoint, witness.logs) : { ok: true, logs: [...witness.logs, ...entrypoint.logs] };
  } finally {
    disk.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function failed(phase: PhaseOutcome, before: readonly LogRecord[]): HostRun {
  return { ok: false, error: `${phase.phase}: ${describe(phase.error!)}`, logs: [...before, ...phase.logs] };
}

/** A log line as proof.result carries it; lines the host recorded say so in their fields (as the Host does). */
function logEntry(record: LogRecord): LogEntry {
  const { level, message } = record;
  if (record.source === "guest") return { level, message, ...(record.fields === undefined ? {} : { fields: record.fields }) };
  return { level, message, fields: { source: "host" } };
}

/** `guest` with the host's handler wrapped. */
function wrapHost(guest: LoadedGuest, wrap: (handler: HostCallHandler) => HostCallHandler): LoadedGuest {
  return {
    engine: guest.engine,
    get retainedBytes() {
      return guest.retainedBytes;
    },
    instantiate: (host: HostCallHandler, limits: EngineLimits) => guest.instantiate(wrap(host), limits),
    dispose: () => guest.dispose(),
  };
}
