/**
 * Wakes whoever waits for a job when it changes: the embedded backend signals its own jobs,
 * the PostgreSQL one those its LISTEN connection hears of.
 */
export class JobSignals {
  private readonly waiting = new Map<string, Set<() => void>>();

  /** Resolves when `job` is signalled, after `timeoutMs`, or when `signal` aborts, whichever comes first. */
  wait(job: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      let set = this.waiting.get(job);
      if (set === undefined) this.waiting.set(job, (set = new Set()));
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        set!.delete(done);
        if (set!.size === 0 && this.waiting.get(job) === set) this.waiting.delete(job);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal?.addEventListener("abort", done, { once: true });
      set.add(done);
      if (signal?.aborted) done();
    });
  }

  notify(job: string): void {
    for (const wake of [...(this.waiting.get(job) ?? [])]) wake();
  }

  /** Wakes every waiter (each then reads its job again): after a missed notification, or at close. */
  notifyAll(): void {
    for (const job of [...this.waiting.keys()]) this.notify(job);
  }
}
