import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createJournalFile, JournalReader } from "./journal.js";
import { JOURNAL_FD, type DoneMessage, type JobMessage, type SandboxConfig } from "./messages.js";

/** How a sandbox process ended. */
export interface SandboxExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Why it could not even be started, if it could not. */
  readonly startError?: string;
  /** The start and the end of what the process wrote on stderr (V8 prints its fatal errors there, then a backtrace; Node an uncaught exception). */
  readonly stderr: string;
}

/** How a sandbox process is started: its script, its V8 heap and native stack, and its config. */
export interface SandboxStart {
  /** The sandbox's script (pool/sandbox-process.js, or a test's wrapper of it). */
  readonly script: URL;
  readonly heapBytes: number;
  /** The native stack its main thread gets (guests run on it). */
  readonly stackBytes: number;
  readonly config: SandboxConfig;
}

/** Characters kept of the start and of the end of a sandbox's stderr, to explain its death; never shown to a guest. */
const STDERR_KEPT = 4096;
const KIB = 1024;

/**
 * The host's handle on one sandbox process (sandbox-process.ts): starts it with its journal
 * file, sends it jobs, and reports its answers and its end. The process keeps the host alive
 * only while it runs a job.
 *
 * The process is started through `/bin/sh`, which raises the stack's soft limit (`ulimit -s`)
 * before it becomes Node: a main thread's stack can grow only to that limit (8 MiB by default),
 * and V8 is told (--stack-size) to use no more than it has, less a margin for Node's own frames.
 * Guests run on that main thread: no thread hop between the host's message and the guest.
 */
export class Sandbox {
  readonly journal: JournalReader;
  private readonly child: ChildProcess;
  private stderrHead = "";
  private stderrTail = "";
  /** Resolves when the process has exited and its stderr is closed. */
  readonly exited: Promise<SandboxExit>;

  constructor(start: SandboxStart, onDone: (done: DoneMessage) => void) {
    const journalFd = createJournalFile();
    this.journal = new JournalReader(journalFd);
    const v8StackKib = Math.ceil(start.stackBytes / KIB);
    // The OS limit: V8's stack, and room for the frames below and beside it.
    const limitKib = v8StackKib + Math.max(2 * KIB, v8StackKib >> 2);
    const node = [
      process.execPath,
      // The sandbox gets no flag of the host's (a debugger's, a test runner's), and no environment of it either.
      `--stack-size=${v8StackKib}`,
      `--max-old-space-size=${Math.ceil(start.heapBytes / (KIB * KIB))}`,
      fileURLToPath(start.script),
      JSON.stringify(start.config),
    ];
    // stdin, stdout, stderr, the IPC channel, and the journal at its descriptor in the child.
    const stdio: (string | number)[] = ["ignore", "ignore", "pipe", "ipc"];
    stdio[JOURNAL_FD] = journalFd;
    this.child = spawn("/bin/sh", ["-c", 'ulimit -s "$0" && exec "$@"', String(limitKib), ...node], {
      env: {},
      serialization: "advanced",
      stdio: stdio as ("ignore" | "pipe" | "ipc" | number)[],
    });
    this.child.stderr!.setEncoding("utf8");
    this.child.stderr!.on("data", (chunk: string) => {
      if (this.stderrHead.length < STDERR_KEPT) this.stderrHead += chunk.slice(0, STDERR_KEPT - this.stderrHead.length);
      else this.stderrTail = (this.stderrTail + chunk).slice(-STDERR_KEPT);
    });
    this.child.on("message", onDone);
    this.exited = new Promise((resolve) => {
      const stderr = () => (this.stderrTail === "" ? this.stderrHead : `${this.stderrHead}\n...\n${this.stderrTail}`);
      this.child.once("close", (code, signal) => resolve({ code, signal, stderr: stderr() }));
      // A process that could not be started (spawn failed: EAGAIN, ENOMEM) never closes: its error is its end.
      this.child.on("error", (error) => {
        if (this.child.pid === undefined) resolve({ code: null, signal: null, startError: error.message, stderr: stderr() });
      });
    });
    this.unref();
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  send(job: JobMessage): void {
    this.ref();
    // A channel that closed meanwhile (the process died) is not an error here: its end is reported by `exited`.
    this.child.send(job, undefined, {}, () => {});
  }

  /** Keeps the host process alive while a job runs. */
  ref(): void {
    this.child.ref();
    this.child.channel?.ref();
    (this.child.stderr as { ref?: () => void } | null)?.ref?.();
  }

  unref(): void {
    this.child.unref();
    this.child.channel?.unref();
    (this.child.stderr as { unref?: () => void } | null)?.unref?.();
  }

  /** Kills the process (SIGKILL: it may be stuck in a guest) and waits for its end. */
  async kill(): Promise<SandboxExit> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      // Held until it is gone: whoever awaits this must get its answer.
      this.ref();
      this.child.kill("SIGKILL");
    }
    return this.exited;
  }

  /** Releases the journal; call once the process has exited and the journal was read. */
  close(): void {
    this.journal.close();
  }
}
