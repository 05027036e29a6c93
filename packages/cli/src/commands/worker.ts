import { startWorker } from "@zkguest/server";
import { EXIT_OK, UsageError, type Command } from "../cli-io.js";
import { integerFlag, parseCommandLine } from "../command-line.js";
import { untilStopped } from "./serve.js";

export const workerUsage = `usage: zkguest worker --database URL [options]
  --database URL          postgres://... : where 'zkguest serve --database URL' queues runs
  --workers N             sandbox workers (default: the CPUs); it takes twice as many runs at once
  --heartbeat-seconds N   a worker silent this long is given up on, its runs retried elsewhere (default 30; at least 10)
Prints 'worker ready'; SIGINT or SIGTERM stops it (running jobs finish first, or are retried elsewhere).
`;

/** `zkguest worker`: takes prove and execute runs from PostgreSQL, on this machine. */
export const workerCommand: Command = async (argv, io) => {
  const { flags } = parseCommandLine("worker", argv, [], {
    database: { type: "string" },
    workers: { type: "string" },
    "heartbeat-seconds": { type: "string" },
  });
  const database = flags["database"] as string | undefined;
  if (database === undefined) throw new UsageError("worker: --database URL is needed (the PostgreSQL database 'zkguest serve --database' uses)");
  const workers = integerFlag("worker", flags["workers"], "--workers", 1);
  const heartbeatSeconds = integerFlag("worker", flags["heartbeat-seconds"], "--heartbeat-seconds", 10);
  const worker = await startWorker({
    database,
    ...(workers === undefined ? {} : { workers }),
    ...(heartbeatSeconds === undefined ? {} : { queue: { heartbeatSeconds } }),
  });
  io.stdout.write("worker ready\n");
  await untilStopped(io);
  await worker.close();
  return EXIT_OK;
};
