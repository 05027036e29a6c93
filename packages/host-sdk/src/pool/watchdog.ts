/** Something the watchdog keeps an eye on: when it is due, and what to do then. */
export interface Watched {
  /** When it must be done by (ms on the `now` clock); Infinity while there is no deadline. */
  deadline(): number;
  /** Called once, when `now` has passed the deadline; the entry is then no longer watched. */
  expire(): void;
}

/**
 * The hard stop's clock, in the main thread: one interval timer, running only while something
 * is watched, that expires what is past its deadline. A guest stuck where its own thread
 * cannot interrupt it (a long builtin, a WebAssembly loop without host calls) is stopped by
 * what `expire` does: terminating its worker.
 */
export class Watchdog {
  private readonly watched = new Set<Watched>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly tickMs: number,
    private readonly now: () => number,
  ) {}

  watch(entry: Watched): void {
    this.watched.add(entry);
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.tick(), this.tickMs);
      // The jobs themselves keep the process alive; the watchdog alone must not.
      this.timer.unref();
    }
  }

  unwatch(entry: Watched): void {
    this.watched.delete(entry);
    if (this.watched.size === 0) this.stop();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    const now = this.now();
    for (const entry of this.watched) {
      if (now > entry.deadline()) {
        this.unwatch(entry);
        entry.expire();
      }
    }
  }
}
