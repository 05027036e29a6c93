import { startServer, type ServeOptions } from "@zkguest/server";
import { readFileSync } from "node:fs";
import { EXIT_OK, printLines, UsageError, type CliIO, type Command } from "../cli-io.js";
import { integerFlag, parseCommandLine } from "../command-line.js";

export const serveUsage = `usage: zkguest serve [options]
  --port N           TCP port (default 8080; 0 picks a free one)
  --host ADDR        address to listen on (default 127.0.0.1)
  --data DIR         where programs, disks and jobs live without --database (default .zkguest)
  --database URL     postgres://... : jobs, programs and disks in PostgreSQL, taken by workers anywhere
  --workers N        sandbox workers in this process (default: the CPUs); 0 with --database: API only
  --token T          require 'Authorization: Bearer T' (owner 'default'); or set ZKGUEST_TOKEN
  --tokens FILE      a JSON object of owner names to tokens; each owner sees only its programs
  --disk-mb N        size of each program's disk (default 16)
  --max-body-mb N    largest artifact a deploy takes (default 16)
  --heartbeat-seconds N   with --database: a worker silent this long is given up on (default 30)
Prints 'listening on http://HOST:PORT'; SIGINT or SIGTERM stops it (running jobs finish first).
`;

/** `zkguest serve`: the coprocessor service (HTTP API), in this process or on PostgreSQL. */
export const serveCommand: Command = async (argv, io) => {
  const { flags } = parseCommandLine("serve", argv, [], {
    port: { type: "string" },
    host: { type: "string" },
    data: { type: "string" },
    database: { type: "string" },
    workers: { type: "string" },
    token: { type: "string" },
    tokens: { type: "string" },
    "disk-mb": { type: "string" },
    "max-body-mb": { type: "string" },
    "heartbeat-seconds": { type: "string" },
  });
  const port = integerFlag("serve", flags["port"], "--port", 0) ?? 8080;
  if (port > 65535) throw new UsageError(`serve: --port takes 0 to 65535, got ${port}`);
  const workers = integerFlag("serve", flags["workers"], "--workers", 0);
  const database = flags["database"] as string | undefined;
  const diskMb = integerFlag("serve", flags["disk-mb"], "--disk-mb", 3);
  const bodyMb = integerFlag("serve", flags["max-body-mb"], "--max-body-mb", 1);
  const heartbeatSeconds = integerFlag("serve", flags["heartbeat-seconds"], "--heartbeat-seconds", 10);
  if (heartbeatSeconds !== undefined && database === undefined) throw new UsageError("serve: --heartbeat-seconds is for --database (workers' heartbeats)");
  const options: ServeOptions = {
    port,
    listenHost: (flags["host"] as string | undefined) ?? "127.0.0.1",
    tokens: readTokens(flags),
    ...(database === undefined ? { dataDir: (flags["data"] as string | undefined) ?? ".zkguest" } : { database }),
    ...(workers === undefined ? {} : { workers }),
    ...(diskMb === undefined ? {} : { diskBytes: diskMb * 2 ** 20 }),
    ...(bodyMb === undefined ? {} : { api: { maxArtifactBytes: bodyMb * 2 ** 20 } }),
    ...(heartbeatSeconds === undefined ? {} : { queue: { heartbeatSeconds } }),
  };
  const server = await startServer(options).catch((e: unknown) => {
    if (e instanceof RangeError) throw new UsageError(e.message.startsWith("serve: ") ? e.message : `serve: ${e.message}`);
    throw e;
  });
  printLines(io.stdout, [`listening on ${server.url}`]);
  await untilStopped(io);
  await server.close();
  return EXIT_OK;
};

/** The tokens: --tokens FILE (owner -> token), --token T or ZKGUEST_TOKEN (owner 'default'). */
function readTokens(flags: Record<string, string | boolean | undefined>): Record<string, string> {
  const file = flags["tokens"] as string | undefined;
  const single = (flags["token"] as string | undefined) ?? process.env["ZKGUEST_TOKEN"];
  if (file !== undefined && single !== undefined) throw new UsageError("serve: give --tokens FILE or --token (ZKGUEST_TOKEN), not both");
  if (single !== undefined) return { default: single };
  if (file === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new UsageError(`serve: --tokens ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed) || !Object.values(parsed).every((t) => typeof t === "string")) {
    throw new UsageError(`serve: --tokens ${file}: expected a JSON object of owner names to tokens`);
  }
  return parsed as Record<string, string>;
}

/** Resolves at SIGINT or SIGTERM (the process then closes the server and exits 0). */
export function untilStopped(io: CliIO): Promise<void> {
  return new Promise((resolve) => {
    const stop = (signal: string) => {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
      io.stderr.write(`zkguest: ${signal}, stopping\n`);
      resolve();
    };
    const onInt = () => stop("SIGINT");
    const onTerm = () => stop("SIGTERM");
    process.once("SIGINT", onInt);
    process.once("SIGTERM", onTerm);
  });
}
