import { GUEST_EPOCH_MS, GuestFailure } from "./engine.js";
import type { FuncType, ValType } from "./wasm-binary.js";
import type { GuestMemory } from "./wasm-memory.js";
import type { GuestOutput } from "./wasi-output.js";
import type { SeededRandom } from "./seeded-random.js";

/**
 * A minimal WASI preview1 (SPEC.md §10.3), written for guests the host does not trust: there
 * is no filesystem, no arguments, no environment, no real clock and no entropy. What exists is
 * what C's runtime (wasi-libc) needs to start and to print: stdout and stderr become log
 * lines, the clock is a counter, random bytes come from a per-run seed. Everything else
 * answers ENOSYS.
 */
export const WASI_MODULE = "wasi_snapshot_preview1";

/** WASI errno values used here. */
export const Errno = { Success: 0, BadF: 8, Inval: 28, NoSys: 52 } as const;

/** The fixed start of the guest's clock: the guests' epoch, 2024-01-01T00:00:00Z, in nanoseconds. */
export const CLOCK_START_NS = BigInt(GUEST_EPOCH_MS) * 1_000_000n;

const FILETYPE_CHARACTER_DEVICE = 2;
const RIGHT_FD_READ = 1n << 1n;
const RIGHT_FD_WRITE = 1n << 6n;
const FDSTAT_BYTES = 24;
const IOVEC_BYTES = 8;
const CLOCK_IDS = 4; // realtime, monotonic, process and thread CPU time

const sig = (params: ValType[], results: ValType[] = ["i32"]): FuncType => ({ params, results });

/** Signatures of the functions this shim implements. */
export const WASI_SIGNATURES: Readonly<Record<string, FuncType>> = {
  args_get: sig(["i32", "i32"]),
  args_sizes_get: sig(["i32", "i32"]),
  environ_get: sig(["i32", "i32"]),
  environ_sizes_get: sig(["i32", "i32"]),
  clock_res_get: sig(["i32", "i32"]),
  clock_time_get: sig(["i32", "i64", "i32"]),
  fd_fdstat_get: sig(["i32", "i32"]),
  fd_prestat_get: sig(["i32", "i32"]),
  fd_prestat_dir_name: sig(["i32", "i32", "i32"]),
  fd_write: sig(["i32", "i32", "i32", "i32"]),
  proc_exit: sig(["i32"], []),
  random_get: sig(["i32", "i32"]),
  sched_yield: sig([]),
};

/** What every other WASI function does: nothing, returning ENOSYS. */
export function notImplemented(): number {
  return Errno.NoSys;
}

type WasiFunction = (...args: never[]) => number | void;

/** The WASI functions of one guest instance. */
export class Wasi {
  private clockTicks = 0n;

  constructor(
    private readonly memory: GuestMemory,
    private readonly output: GuestOutput,
    private readonly random: SeededRandom,
  ) {}

  /** The implemented functions by name; their signatures are in WASI_SIGNATURES. */
  functions(): Readonly<Record<string, WasiFunction>> {
    const m = this.memory;
    const zeroCounts = (what: string) => (countPtr: number, bytesPtr: number) => {
      m.writeU32(countPtr, 0, what);
      m.writeU32(bytesPtr, 0, what);
      return Errno.Success;
    };
    const nothingToList = () => Errno.Success;
    const noPreopens = () => Errno.BadF;
    return {
      args_get: nothingToList,
      args_sizes_get: zeroCounts("wasi args_sizes_get"),
      environ_get: nothingToList,
      environ_sizes_get: zeroCounts("wasi environ_sizes_get"),
      clock_res_get: (id: number, resPtr: number) => {
        if (id >>> 0 >= CLOCK_IDS) return Errno.Inval;
        m.writeU64(resPtr, 1n, "wasi clock_res_get");
        return Errno.Success;
      },
      clock_time_get: (id: number, _precision: bigint, timePtr: number) => {
        if (id >>> 0 >= CLOCK_IDS) return Errno.Inval;
        m.writeU64(timePtr, CLOCK_START_NS + this.clockTicks++, "wasi clock_time_get");
        return Errno.Success;
      },
      fd_fdstat_get: (fd: number, statPtr: number) => this.fdstat(fd, statPtr),
      fd_prestat_get: noPreopens,
      fd_prestat_dir_name: noPreopens,
      fd_write: (fd: number, iovs: number, iovsLen: number, nwrittenPtr: number) => this.fdWrite(fd, iovs, iovsLen, nwrittenPtr),
      proc_exit: (code: number) => {
        const status = code >>> 0;
        throw new GuestFailure("guest_error", status === 0 ? "exit(0) during a call" : `the guest exited with code ${status}`);
      },
      random_get: (bufPtr: number, len: number) => {
        m.check(bufPtr, len, "wasi random_get");
        const bytes = new Uint8Array(len >>> 0);
        this.random.fill(bytes);
        m.write(bufPtr, bytes, "wasi random_get");
        return Errno.Success;
      },
      sched_yield: () => Errno.Success,
    };
  }

  /**
   * Descriptors 0, 1 and 2 are character devices, so wasi-libc's isatty() holds and C stdio
   * line-buffers stdout (a fully buffered stdout would never be flushed by a reactor).
   */
  private fdstat(fd: number, statPtr: number): number {
    if (fd >>> 0 > 2) return Errno.BadF;
    const stat = new Uint8Array(FDSTAT_BYTES);
    const view = new DataView(stat.buffer);
    view.setUint8(0, FILETYPE_CHARACTER_DEVICE);
    view.setBigUint64(8, fd === 0 ? RIGHT_FD_READ : RIGHT_FD_WRITE, true);
    this.memory.write(statPtr, stat, "wasi fd_fdstat_get");
    return Errno.Success;
  }

  private fdWrite(fd: number, iovs: number, iovsLen: number, nwrittenPtr: number): number {
    const what = "wasi fd_write";
    if (fd !== 1 && fd !== 2) return Errno.BadF;
    this.memory.check(nwrittenPtr, 4, what);
    const vectors = this.memory.read(iovs, (iovsLen >>> 0) * IOVEC_BYTES, what);
    const table = new DataView(vectors.buffer);
    let written = 0;
    for (let at = 0; at < vectors.length; at += IOVEC_BYTES) {
      const bytes = this.memory.read(table.getUint32(at, true), table.getUint32(at + 4, true), what);
      this.output.write(fd === 1 ? "info" : "warn", bytes);
      written += bytes.length;
    }
    this.memory.writeU32(nwrittenPtr, written, what);
    return Errno.Success;
  }
}
