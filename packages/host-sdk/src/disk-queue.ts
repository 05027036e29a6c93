import { withImageLock } from "@zkguest/fat16";

/**
 * Runs tasks one at a time per disk image: in this process in the order they were queued, and
 * across processes by the image's lock file (withImageLock: another host on the same data
 * directory, `zkguest fs put`), taken when the task's turn comes. Tasks on different images run
 * concurrently. The host queues every run and every read of a program's disk here, so that runs
 * of one program never share its disk while runs of different programs spread over the pool.
 */
export class DiskQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(image: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(image) ?? Promise.resolve();
    const result = previous.then(() => withImageLock(image, task));
    // The next task waits for this one whether it succeeds or fails.
    const tail = result.catch(() => {});
    this.tails.set(image, tail);
    void tail.then(() => {
      if (this.tails.get(image) === tail) this.tails.delete(image);
    });
    return result;
  }
}
