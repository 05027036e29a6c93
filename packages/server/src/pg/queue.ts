import { PgBoss } from "pg-boss";

/** Where runs (prove and execute jobs) wait for a worker. */
export const RUNS_QUEUE = "zkguest-runs";
/** Where pg-boss puts a run that failed every attempt (its dead letters): a worker records the job as failed. */
export const GAVE_UP_QUEUE = "zkguest-runs-given-up";

export interface QueueOptions {
  /** A worker that has not shown it is alive for this long is given up on and its job retried elsewhere (default 30 s; pg-boss needs 10 or more). */
  readonly heartbeatSeconds?: number;
  /** Attempts after the first before a job is failed (default 4). */
  readonly retryLimit?: number;
  /** The longest a run may take (default 1 hour). */
  readonly expireInSeconds?: number;
}

/** The payload of a run in the queue: the job's id (its arguments are in zkguest.jobs). */
export interface RunMessage {
  readonly job: string;
}

/**
 * Starts pg-boss on the database and makes sure the queues are there with these options.
 * Jobs are announced with NOTIFY (workers wake at once; polling stays as the backstop), and the
 * monitor that fails jobs whose heartbeat stopped runs often enough to notice within about
 * `heartbeatSeconds` and a quarter.
 */
export async function startQueue(connectionString: string, options: QueueOptions, onError: (err: Error) => void): Promise<PgBoss> {
  const heartbeatSeconds = options.heartbeatSeconds ?? 30;
  const monitorSeconds = Math.max(1, Math.min(60, Math.floor(heartbeatSeconds / 4)));
  const boss = new PgBoss({
    connectionString,
    useListenNotify: true,
    superviseIntervalSeconds: monitorSeconds,
    monitorIntervalSeconds: monitorSeconds,
    max: 4,
    application_name: "zkguest-queue",
  });
  boss.on("error", onError);
  await boss.start();
  await boss.createQueue(GAVE_UP_QUEUE, { notify: true });
  const runs = {
    retryLimit: options.retryLimit ?? 4,
    retryDelay: 1,
    retryBackoff: true,
    retryDelayMax: 60,
    heartbeatSeconds,
    expireInSeconds: options.expireInSeconds ?? 3600,
    deadLetter: GAVE_UP_QUEUE,
    notify: true,
  };
  await boss.createQueue(RUNS_QUEUE, runs);
  await boss.updateQueue(RUNS_QUEUE, runs);
  return boss;
}
