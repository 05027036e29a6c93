/**
 * A map that keeps at most `capacity` entries, dropping the least recently used. The worker
 * keeps its compiled guests in one, and the main thread mirrors the keys of each worker's with
 * another: both see the same sequence of uses, so the main thread knows when to send the code.
 */
export class Lru<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(
    private readonly capacity: number,
    private readonly evicted: (value: V) => void = () => {},
  ) {}

  /** The value, now the most recently used. */
  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    while (this.entries.size > this.capacity) {
      const [oldest, old] = this.entries.entries().next().value as [K, V];
      this.entries.delete(oldest);
      this.evicted(old);
    }
  }

  delete(key: K): void {
    const value = this.entries.get(key);
    if (value !== undefined && this.entries.delete(key)) this.evicted(value);
  }

  clear(): void {
    for (const value of this.entries.values()) this.evicted(value);
    this.entries.clear();
  }
}
