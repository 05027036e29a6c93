import { withImageLock } from "@zkguest/fat16";

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

/**
 * Runs tasks one at a time per disk image: in this process in the order they were queued, and
 * across processes by the image's lock file (withImageLock: another host on the same data
 * directory, `zkguest fs put`), taken when the task's turn comes. Tasks on different images run
 * concurrently. The host queues every phase that touches a program's disk and every read of it
 * here, so that they never share the disk while runs of different programs spread over the pool.
 */
export class DiskQueue {
  private readonly order = new KeyedQueue();

  run<T>(image: string, task: () => Promise<T>): Promise<T> {
    return this.order.run(image, () => withImageLock(image, task));
  }
}
