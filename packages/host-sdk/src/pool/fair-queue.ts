/**
 * Jobs waiting for a sandbox, taken fairly between tenants: each tenant has its own FIFO, and
 * the next job is the oldest of the tenant that has had the least sandbox time so far (its
 * phases' durations, charged as they end). A tenant that floods the pool with long phases falls
 * behind every other tenant; a tenant that arrives (or comes back) starts level with the least
 * served of those waiting, so it is next, without a backlog of credit from when it was idle.
 * Bound: a phase of a tenant that had no work waiting starts as soon as a sandbox is free, after
 * at most the phases of other tenants that arrived before it at the same level.
 */
export class FairQueue<T> {
  private readonly waiting = new Map<string, T[]>();
  /** Sandbox time charged per tenant (ms), kept while the tenant is known. */
  private readonly served = new Map<string, number>();
  private count = 0;

  get length(): number {
    return this.count;
  }

  push(tenant: string, item: T): void {
    let queue = this.waiting.get(tenant);
    if (queue === undefined) {
      queue = [];
      this.served.set(tenant, Math.max(this.served.get(tenant) ?? 0, this.leastServedWaiting()));
      this.waiting.set(tenant, queue);
    }
    queue.push(item);
    this.count++;
  }

  /** The next item, by the rule above; undefined when nothing waits. */
  shift(): T | undefined {
    let best: string | undefined;
    let bestServed = Infinity;
    for (const tenant of this.waiting.keys()) {
      const served = this.served.get(tenant)!;
      if (served < bestServed) [best, bestServed] = [tenant, served];
    }
    if (best === undefined) return undefined;
    const queue = this.waiting.get(best)!;
    const item = queue.shift()!;
    if (queue.length === 0) this.waiting.delete(best);
    this.count--;
    // Charged at once for a start, so tenants waiting at the same level take turns.
    this.served.set(best, bestServed + 1);
    return item;
  }

  /** Charges `tenant` for a phase that took `ms`. */
  charge(tenant: string, ms: number): void {
    this.served.set(tenant, (this.served.get(tenant) ?? this.leastServedWaiting()) + Math.max(0, ms));
    this.forgetIdle();
  }

  /** Empties the queue, giving what waited. */
  drain(): T[] {
    const items = [...this.waiting.values()].flat();
    this.waiting.clear();
    this.count = 0;
    return items;
  }

  private leastServedWaiting(): number {
    let least = Infinity;
    for (const tenant of this.waiting.keys()) least = Math.min(least, this.served.get(tenant)!);
    return least === Infinity ? 0 : least;
  }

  /**
   * Keeps the map bounded by the tenants that matter: past a few dozen more than are waiting, the
   * tenants with nothing waiting are forgotten (one that comes back starts level with those
   * waiting, as a new one does).
   */
  private forgetIdle(): void {
    if (this.served.size <= 2 * this.waiting.size + 64) return;
    for (const tenant of this.served.keys()) if (!this.waiting.has(tenant)) this.served.delete(tenant);
  }
}
