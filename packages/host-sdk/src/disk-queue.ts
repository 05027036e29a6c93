import { lockImage } from "@zkguest/fat16";

/** Runs tasks one at a time per key, in the order they were queued; tasks of different keys run concurrently. */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(task);
    // The next task waits for this one whether it succeeds or fails.
    const tail = result.catch(() => {});
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}

/** An image's lock as this process holds it between tasks. */
interface Held {
  readonly release: () => void;
  readonly since: number;
  linger: NodeJS.Timeout | undefined;
}

/**
 * How long the lock on an image is kept after its last task, in case another comes (the next
 * phase of a run, the next run of a busy program); and how long it is kept at most while tasks
 * keep coming, before it is let go for other processes.
 */
const LINGER_MS = 25;
const MAX_HOLD_MS = 1_000;

/**
 * Runs tasks one at a time per disk image: in this process in the order they were queued, and
 * across processes by the image's lock file (lockImage: another host on the same data
 * directory, `zkguest fs put`), taken when a task's turn comes. Tasks on different images run
 * concurrently. The host queues every phase that touches a program's disk and every read of it
 * here, so that they never share the disk while runs of different programs spread over the pool.
 *
 * Taking the lock costs a few file operations (about 0.1 ms on the host's main thread, at every
 * phase: 15% of the lifecycle throughput when it was taken per task), so it is kept while tasks
 * follow each other: released LINGER_MS after the last one, and at least every MAX_HOLD_MS.
 */
export class DiskQueue {
  private readonly order = new KeyedQueue();
  private readonly held = new Map<string, Held>();

  run<T>(image: string, task: () => Promise<T>): Promise<T> {
    return this.order.run(image, async () => {
      await this.acquire(image);
      try {
        return await task();
      } finally {
        this.releaseSoon(image);
      }
    });
  }

  /** Lets go of every lock held (a closing host). */
  close(): void {
    for (const image of [...this.held.keys()]) this.release(image);
  }

  private async acquire(image: string): Promise<void> {
    const held = this.held.get(image);
    if (held !== undefined) {
      clearTimeout(held.linger);
      held.linger = undefined;
      if (performance.now() - held.since < MAX_HOLD_MS) return;
      this.release(image);
    }
    const release = await lockImage(image);
    this.held.set(image, { release, since: performance.now(), linger: undefined });
  }

  private releaseSoon(image: string): void {
    const held = this.held.get(image);
    if (held === undefined) return;
    held.linger = setTimeout(() => this.release(image), LINGER_MS);
    // The lock alone does not keep the process alive; a process that exits leaves a lock whose
    // holder is dead, which the next locker breaks at once.
    held.linger.unref();
  }

  private release(image: string): void {
    const held = this.held.get(image);
    if (held === undefined) return;
    clearTimeout(held.linger);
    this.held.delete(image);
    held.release();
  }
}
