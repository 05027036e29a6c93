/**
 * Runs tasks one at a time per key, in the order they were queued; tasks of different keys run
 * concurrently. The host keys it by disk image, so that runs of one program never share its
 * disk while runs of different programs spread over the pool.
 */
export class DiskQueue {
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
