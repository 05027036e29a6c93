import { GuestFailure } from "./engine.js";

/**
 * The crossing from guest code into host functions (the `zkguest` and WASI imports). Every
 * host function runs through `wrap`, which
 *
 * - checks the wall-clock deadline of the current call: a guest loop cannot be interrupted
 *   from its own thread, but one that calls the host is stopped at its next call (a loop that
 *   never calls the host needs the worker pool's hard stop);
 * - records the first failure a host function throws (a trap on a bad pointer, a limit, an
 *   exit). WebAssembly exception handling lets a guest catch a JS exception with `catch_all`
 *   and carry on; a recorded failure is therefore thrown again at every later host call and
 *   reported when the guest returns, whatever it returns.
 */
export class HostBoundary {
  private deadline = Infinity;
  private budgetMs = 0;
  private recorded: unknown;

  /** The first failure recorded, if any: the instance is then unusable. */
  get failure(): unknown {
    return this.recorded;
  }

  /** Starts the clock of one guest call (a request, or the reactor's initializer). */
  startClock(budgetMs: number): void {
    this.budgetMs = budgetMs;
    this.deadline = performance.now() + budgetMs;
  }

  /** Throws the time-limit failure if the current call is past its deadline. */
  checkDeadline(): void {
    if (performance.now() > this.deadline) {
      throw this.record(GuestFailure.limitExceeded("time", `the guest ran for more than ${this.budgetMs} ms`));
    }
  }

  /**
   * Records `e` as the failure unless one is recorded already; returns what was recorded.
   * Kept raw: this may run with the stack nearly exhausted (a host call from deep recursion),
   * so telling what it was waits until the guest's frames are unwound.
   */
  record(e: unknown): unknown {
    if (this.recorded === undefined) this.recorded = e;
    return this.recorded;
  }

  wrap<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
    return (...args: A): R => {
      if (this.recorded !== undefined) throw this.recorded;
      this.checkDeadline();
      try {
        return fn(...args);
      } catch (e) {
        throw this.record(e);
      }
    };
  }
}
