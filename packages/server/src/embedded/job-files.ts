import type { ErrorCode } from "@zkguest/protocol";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { JobStatus } from "../backend.js";
import type { Json } from "../json.js";

/** A prove job as the embedded backend keeps it: one JSON file per job, `jobs/<id>.json`. */
export interface JobFile {
  readonly id: string;
  readonly owner: string;
  readonly program: string;
  readonly args: Json;
  readonly idempotencyKey?: string;
  /** requestDigest(program, args): what the idempotency key is bound to. */
  readonly request: string;
  readonly status: JobStatus;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly report?: Json;
  readonly error?: { readonly code: ErrorCode; readonly message: string };
}

const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const JOB_FILE = /^([0-9a-f-]{36})\.json$/;

/**
 * Job files in a directory, each written aside and renamed into place, so that a crash leaves
 * a job's old state or its new one, never half a file.
 */
export class JobFiles {
  constructor(readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true });
  }

  async write(job: JobFile): Promise<void> {
    const target = this.file(job.id);
    const aside = `${target}.${randomBytes(6).toString("hex")}.tmp`;
    await fs.promises.writeFile(aside, JSON.stringify(job), { flag: "wx" });
    await fs.promises.rename(aside, target);
  }

  async read(id: string): Promise<JobFile | undefined> {
    // An id names a file only if it is a UUID (no path tricks).
    if (!JOB_ID.test(id)) return undefined;
    try {
      return JSON.parse(await fs.promises.readFile(this.file(id), "utf8")) as JobFile;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw e;
    }
  }

  async remove(id: string): Promise<void> {
    await fs.promises.rm(this.file(id), { force: true });
  }

  /** Every job on file (leftover `.tmp` files of a crash are removed). */
  async all(): Promise<JobFile[]> {
    const jobs: JobFile[] = [];
    for (const name of await fs.promises.readdir(this.dir)) {
      if (name.endsWith(".tmp")) await fs.promises.rm(path.join(this.dir, name), { force: true });
      const m = JOB_FILE.exec(name);
      if (m !== null) {
        const job = await this.read(m[1]!);
        if (job !== undefined) jobs.push(job);
      }
    }
    return jobs;
  }

  private file(id: string): string {
    return path.join(this.dir, `${id}.json`);
  }
}
