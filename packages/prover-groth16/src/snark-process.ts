import { ZkguestError } from "@zkguest/protocol";
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Job, JobReply } from "./jobs.js";

const CHILD = fileURLToPath(new URL("./snark-child.js", import.meta.url));

/**
 * The host's side of the snarkjs process (snark-child.ts): jobs run there one at a time, in
 * order. snarkjs's work is CPU-heavy (a proof keeps the thread that runs it busy for 80 ms at a
 * stretch), so none of it runs on the host's event loop. A job past its time limit kills the
 * process (a witness generator is the artifact's code and could loop); the next job starts a
 * fresh one. Idle, the process does not keep the host's alive, and it ends with the host.
 */
export class SnarkProcess {
  private child: ChildProcess | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  private nextId = 1;
  private closed = false;

  /** Runs `job` after the jobs before it; rejects with ZkguestError (the job's code) if it fails, limit_exceeded past `timeoutMs`. */
  run<T>(job: Job, timeoutMs: number | undefined): Promise<T> {
    const result = this.tail.then(() => this.runNow<T>(job, timeoutMs));
    this.tail = result.catch(() => undefined);
    return result;
  }

  async close(): Promise<void> {
    this.closed = true;
    const child = this.child;
    this.child = undefined;
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      // Idle, the child is unreferenced: without this, the wait below would not keep the process alive.
      setRef(child, true);
      child.kill("SIGKILL");
      await exited;
    }
  }

  private start(): ChildProcess {
    const child = fork(CHILD, [], { serialization: "advanced", stdio: ["ignore", "ignore", "ignore", "ipc"] });
    this.child = child;
    return child;
  }

  private runNow<T>(job: Job, timeoutMs: number | undefined): Promise<T> {
    if (this.closed) return Promise.reject(new ZkguestError("invalid_state", "the groth16 prover is closed"));
    const child = this.child ?? this.start();
    const id = this.nextId++;
    setRef(child, true);
    return new Promise<T>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        child.off("message", onMessage).off("error", onError).off("exit", onExit);
        if (this.child === child) setRef(child, false);
      };
      const drop = (error: ZkguestError) => {
        done();
        if (this.child === child) this.child = undefined;
        child.kill("SIGKILL");
        reject(error);
      };
      const onMessage = (reply: JobReply) => {
        if (reply.id !== id) return;
        done();
        if (reply.ok) resolve(reply.value as T);
        else reject(new ZkguestError(reply.error.code, reply.error.message));
      };
      const onError = (e: Error) => drop(new ZkguestError("internal", `the snarkjs process failed: ${e.message}`));
      const onExit = (code: number | null, signal: string | null) => drop(new ZkguestError("internal", `the snarkjs process ended (${signal ?? `exit code ${code}`}) during ${job.op}`));
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => drop(new ZkguestError("limit_exceeded", `${job.op} took more than ${timeoutMs} ms (the time limit); it was stopped`)), timeoutMs);
      child.on("message", onMessage).on("error", onError).on("exit", onExit);
      child.send({ ...job, id });
    });
  }
}

/** Whether the child (and its IPC channel) keeps this process's event loop alive. */
function setRef(child: ChildProcess, ref: boolean): void {
  const channel = child.channel as { ref?(): void; unref?(): void } | null | undefined;
  if (ref) {
    child.ref();
    channel?.ref?.();
  } else {
    child.unref();
    channel?.unref?.();
  }
}
