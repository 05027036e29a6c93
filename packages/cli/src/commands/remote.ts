import type { Stat } from "@zkguest/fat16";
import { ServiceClient } from "@zkguest/server/client";
import { writeFileSync } from "node:fs";
import { readArtifactFile } from "../bounded-file.js";
import { EXIT_FAILED, EXIT_OK, printJson, printLines, UsageError, type CliIO, type Command } from "../cli-io.js";
import { integerFlag, parseCommandLine } from "../command-line.js";
import { readJsonArgs } from "../json-args.js";
import { isTerminal, showOnTerminal } from "../shown-bytes.js";
import { listLine } from "./fs.js";

export const remoteUsage = `usage: zkguest remote VERB ... [--url URL] [--token T]
  deploy ARTIFACT                       deploy a .zkg; prints the program id
  prove ID [--args JSON|-|@FILE] [--wait] [--timeout S] [--idempotency-key K]
                                        queue a prove job; prints the job id, or with --wait the job
                                        as JSON once it is over (exit 1 if it failed)
  execute ID [--args JSON|-|@FILE]      the dry run; prints its report as JSON (exit 1 if it failed)
  status JOB [--wait] [--timeout S]     the job as JSON (exit 1 if it failed)
  cat ID PATH                           a file of the program's disk to stdout (to a terminal: text
                                        escaped, binary as hex)
  ls ID [PATH]                          a directory of the program's disk
  disk ID -o FILE                       the program's whole disk image
--url defaults to ZKGUEST_URL or http://127.0.0.1:8080; --token to ZKGUEST_TOKEN.
`;

const COMMON = { url: { type: "string" }, token: { type: "string" } } as const;
const WAIT = { wait: { type: "boolean" }, timeout: { type: "string" } } as const;
type Flags = Record<string, string | boolean | undefined>;

interface Verb {
  readonly args: readonly string[];
  readonly options?: Record<string, { type: "string" | "boolean"; short?: string }>;
  readonly run: (client: ServiceClient, a: Record<string, string>, flags: Flags, io: CliIO) => Promise<number>;
}

const VERBS: Record<string, Verb> = {
  deploy: {
    args: ["ARTIFACT"],
    run: async (client, { ARTIFACT }, _flags, io) => {
      const { id } = await client.deploy(await readArtifactFile(ARTIFACT!));
      printLines(io.stdout, [id]);
      return EXIT_OK;
    },
  },
  prove: {
    args: ["ID"],
    options: { args: { type: "string" }, "idempotency-key": { type: "string" }, ...WAIT },
    run: async (client, { ID }, flags, io) => {
      const args = await readJsonArgs("remote prove", flags["args"] as string | undefined, io);
      const key = flags["idempotency-key"] as string | undefined;
      const job = await client.prove(ID!, args, key === undefined ? {} : { idempotencyKey: key });
      if (!flags["wait"]) {
        printLines(io.stdout, [job]);
        return EXIT_OK;
      }
      return printJob(await client.wait(job, timeoutMs(flags)), io);
    },
  },
  execute: {
    args: ["ID"],
    options: { args: { type: "string" } },
    run: async (client, { ID }, flags, io) => {
      const report = (await client.execute(ID!, await readJsonArgs("remote execute", flags["args"] as string | undefined, io))) as { status?: string; error?: { code: string; message: string } };
      printJson(io.stdout, report, 2);
      if (report.status === "executed") return EXIT_OK;
      printLines(io.stderr, [`zkguest: ${report.error?.code ?? "internal"}: ${report.error?.message ?? "the run failed"}`]);
      return EXIT_FAILED;
    },
  },
  status: {
    args: ["JOB"],
    options: WAIT,
    run: async (client, { JOB }, flags, io) => printJob(flags["wait"] ? await client.wait(JOB!, timeoutMs(flags)) : await client.job(JOB!), io),
  },
  cat: {
    args: ["ID", "PATH"],
    run: async (client, { ID, PATH }, _flags, io) => {
      const entry = await client.path(ID!, PATH!);
      if (entry.type === "dir") throw new UsageError(`remote cat: ${PATH} is a directory (try 'zkguest remote ls')`);
      if (isTerminal(io.stdout)) showOnTerminal(io, PATH!, entry.data.length, () => [entry.data]);
      else io.stdout.write(entry.data);
      return EXIT_OK;
    },
  },
  ls: {
    args: ["ID", "PATH?"],
    run: async (client, { ID, PATH }, _flags, io) => {
      const entry = await client.path(ID!, PATH ?? "/");
      const entries: readonly Stat[] = entry.type === "dir" ? entry.entries : [];
      printLines(io.stdout, entries.map(listLine));
      return EXIT_OK;
    },
  },
  disk: {
    args: ["ID"],
    options: { output: { type: "string", short: "o" } },
    run: async (client, { ID }, flags) => {
      const output = flags["output"] as string | undefined;
      if (output === undefined) throw new UsageError("remote disk: -o FILE is needed (the image is binary)");
      writeFileSync(output, await client.disk(ID!));
      return EXIT_OK;
    },
  },
};

/** `zkguest remote`: the service's API from a shell. */
export const remoteCommand: Command = async (argv, io) => {
  const [name, ...rest] = argv;
  if (name === undefined) throw new UsageError(`remote takes a verb: ${Object.keys(VERBS).join(", ")}`);
  const verb = Object.hasOwn(VERBS, name) ? VERBS[name] : undefined;
  if (!verb) throw new UsageError(`unknown remote command '${name}' (it takes ${Object.keys(VERBS).join(", ")})`);
  const { args, flags } = parseCommandLine(`remote ${name}`, rest, verb.args, { ...COMMON, ...verb.options });
  const url = (flags["url"] as string | undefined) ?? process.env["ZKGUEST_URL"] ?? "http://127.0.0.1:8080";
  try {
    new URL(url);
  } catch {
    throw new UsageError(`remote: --url '${url}' is not a URL`);
  }
  const token = (flags["token"] as string | undefined) ?? process.env["ZKGUEST_TOKEN"];
  return verb.run(new ServiceClient(url, token), args, flags, io);
};

function timeoutMs(flags: Flags): number {
  return (integerFlag("remote", flags["timeout"], "--timeout", 1) ?? 600) * 1000;
}

/** The job as JSON on stdout; a failed job also gets the one error line on stderr and exit 1. */
function printJob(job: { status: string; error?: { code: string; message: string } }, io: CliIO): number {
  printJson(io.stdout, job, 2);
  if (job.status !== "failed") return EXIT_OK;
  printLines(io.stderr, [`zkguest: ${job.error?.code ?? "internal"}: ${job.error?.message ?? "the job failed"}`]);
  return EXIT_FAILED;
}
