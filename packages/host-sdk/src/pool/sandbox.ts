import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createJournalFile, JournalReader } from "./journal.js";
import type { DiedMessage, DoneMessage, JobMessage, SandboxConfig, SandboxMessage } from "./messages.js";

/** How a sandbox process ended. */
export interface SandboxExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** What its worker thread died of, when the process lived to say so. */
  readonly died: DiedMessage | undefined;
  /** The start and the end of what the process wrote on stderr (V8 prints its fatal errors there, then a backtrace). */
  readonly stderr: string;
}

/** Characters kept of the start and of the end of a sandbox's stderr, to explain its death; never shown to a guest. */
const STDERR_KEPT = 4096;

const ENTRY = fileURLToPath(new URL("./sandbox-main.js", import.meta.url));

/**
 * The host's handle on one sandbox process (sandbox-main.ts): starts it with its journal file,
 * sends it jobs, and reports its answers and its end. The process keeps the host alive only
 * while it runs a job.
 */
export class Sandbox {
  readonly journal: JournalReader;
  private readonly child: ChildProcess;
  private stderrHead = "";
  private stderrTail = "";
  private died: DiedMessage | undefined;
  /** Resolves when the process has exited and its stderr is closed. */
  readonly exited: Promise<SandboxExit>;

  constructor(config: Omit<SandboxConfig, "worker"> & { worker: Omit<SandboxConfig["worker"], "journalFd"> }, onDone: (done: DoneMessage) => void) {
    const journalFd = createJournalFile();
    this.journal = new JournalReader(journalFd);
    // The journal is the child's fd 4 (stdin, stdout, stderr, the IPC channel, then this).
    const full: SandboxConfig = { ...config, worker: { ...config.worker, journalFd: 4 } };
    this.child = fork(ENTRY, [JSON.stringify(full)], {
      // The sandbox gets no flag of the host's (a debugger's, a test runner's), and no environment of it either.
      execArgv: [],
      env: {},
      serialization: "advanced",
      stdio: ["ignore", "ignore", "pipe", "ipc", journalFd],
    });
    this.child.stderr!.setEncoding("utf8");
    this.child.stderr!.on("data", (chunk: string) => {
      if (this.stderrHead.length < STDERR_KEPT) this.stderrHead += chunk.slice(0, STDERR_KEPT - this.stderrHead.length);
      else this.stderrTail = (this.stderrTail + chunk).slice(-STDERR_KEPT);
    });
    this.child.on("message", (message: SandboxMessage) => {
      if (message.kind === "done") onDone(message);
      else this.died = message;
    });
    this.exited = new Promise((resolve) => {
      const stderr = () => (this.stderrTail === "" ? this.stderrHead : `${this.stderrHead}\n...\n${this.stderrTail}`);
      this.child.once("close", (code, signal) => resolve({ code, signal, died: this.died, stderr: stderr() }));
      // A process that could not be started (fork failed: EAGAIN, ENOMEM) never closes: its error is its end.
      this.child.on("error", (error) => {
        if (this.child.pid === undefined) resolve({ code: null, signal: null, died: { kind: "died", message: `the sandbox process could not be started: ${error.message}` }, stderr: stderr() });
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
