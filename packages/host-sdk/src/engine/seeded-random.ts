import { createHash } from "node:crypto";

/**
 * A deterministic byte generator for a guest's `random_get`: SHA-256 of the seed and a block
 * counter, block after block. The same seed gives the same bytes, so runs are reproducible
 * (SPEC.md §10.3); different seeds give unrelated streams.
 */
export class SeededRandom {
  private readonly seed: Uint8Array;
  private block = new Uint8Array(0);
  private used = 0;
  private counter = 0;

  constructor(seed: Uint8Array | string) {
    this.seed = typeof seed === "string" ? new TextEncoder().encode(seed) : seed.slice();
  }

  fill(out: Uint8Array): void {
    for (let filled = 0; filled < out.length; ) {
      if (this.used === this.block.length) this.nextBlock();
      const n = Math.min(out.length - filled, this.block.length - this.used);
      out.set(this.block.subarray(this.used, this.used + n), filled);
      this.used += n;
      filled += n;
    }
  }

  private nextBlock(): void {
    const counter = Buffer.alloc(8);
    counter.writeBigUInt64LE(BigInt(this.counter++));
    this.block = createHash("sha256").update(this.seed).update(counter).digest();
    this.used = 0;
  }
}
