/**
 * A map that keeps at most `capacity` in total weight (each entry weighs what `weigh` says when it
 * is set; by default 1, a count of entries), dropping the least recently used. A sandbox keeps its
 * compiled guests in one, weighed in bytes; the host keeps recently used artifacts in another.
 * An entry heavier than the whole capacity is still kept while it is the only one: the next
 * `set` drops it.
 */
export class Lru<K, V> {
  private readonly entries = new Map<K, { value: V; weight: number }>();
  private total = 0;

  constructor(
    private readonly capacity: number,
    private readonly evicted: (value: V, key: K) => void = () => {},
    private readonly weigh: (value: V) => number = () => 1,
  ) {}

  /** The value, now the most recently used. */
  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (entry !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    return entry?.value;
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  /** Sets (or weighs again) `key`, the most recently used, and drops the oldest entries past the capacity. */
  set(key: K, value: V): void {
    const old = this.entries.get(key);
    if (old !== undefined) {
      this.entries.delete(key);
      this.total -= old.weight;
      if (old.value !== value) this.evicted(old.value, key);
    }
    const weight = this.weigh(value);
    this.entries.set(key, { value, weight });
    this.total += weight;
    while (this.total > this.capacity && this.entries.size > 1) {
      const [oldest, entry] = this.entries.entries().next().value as [K, { value: V; weight: number }];
      this.entries.delete(oldest);
      this.total -= entry.weight;
      this.evicted(entry.value, oldest);
    }
  }

  delete(key: K): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.entries.delete(key);
    this.total -= entry.weight;
    this.evicted(entry.value, key);
  }

  /** The total weight held. */
  get weight(): number {
    return this.total;
  }
}
