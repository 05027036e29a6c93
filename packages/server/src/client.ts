import type { Stat } from "@zkguest/fat16";
import { ERROR_CODES, ZkguestError, type ErrorCode } from "@zkguest/protocol";
import type { DiskEntry, JobView } from "./backend.js";
import type { Json } from "./json.js";

/** The longest a single long poll asks the server to wait (the API's maximum). */
const POLL_SECONDS = 30;

/**
 * A client of the service's HTTP API (what `zkguest remote` uses). Every error answer becomes
 * a ZkguestError with the answer's protocol code and detail.
 */
export class ServiceClient {
  constructor(
    readonly url: string,
    private readonly token?: string,
  ) {}

  /** Deploys an artifact; `created` is false when this owner had deployed it already. */
  async deploy(artifact: Uint8Array): Promise<{ id: string; created: boolean }> {
    const r = await this.request("POST", "/v1/programs", { body: artifact, type: "application/octet-stream" });
    return { id: ((await r.json()) as { id: string }).id, created: r.status === 201 };
  }

  async prove(program: string, args: unknown, options: { idempotencyKey?: string } = {}): Promise<string> {
    const headers: Record<string, string> = options.idempotencyKey === undefined ? {} : { "idempotency-key": options.idempotencyKey };
    const r = await this.request("POST", `/v1/programs/${encodeURIComponent(program)}/prove`, { json: { args }, headers });
    return ((await r.json()) as { job: string }).job;
  }

  async execute(program: string, args: unknown): Promise<Json> {
    const r = await this.request("POST", `/v1/programs/${encodeURIComponent(program)}/execute`, { json: { args } });
    return ((await r.json()) as { report: Json }).report;
  }

  /** A job's state; with `waitSeconds`, answered when it is over or after that long. */
  async job(job: string, waitSeconds = 0): Promise<JobView> {
    const query = waitSeconds > 0 ? `?wait=${Math.min(waitSeconds, POLL_SECONDS)}` : "";
    const r = await this.request("GET", `/v1/jobs/${encodeURIComponent(job)}${query}`);
    return (await r.json()) as JobView;
  }

  /** Waits (long polls, no busy loop) until the job is over, or `timeoutMs` passed (then `limit_exceeded`). */
  async wait(job: string, timeoutMs: number): Promise<JobView> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const left = Math.ceil((deadline - Date.now()) / 1000);
      const view = await this.job(job, Math.max(1, left));
      if (view.status === "proved" || view.status === "failed") return view;
      if (Date.now() >= deadline) throw new ZkguestError("limit_exceeded", `job ${job} is still ${view.status} after ${timeoutMs} ms`);
    }
  }

  /** A file's bytes, or a directory's entries. */
  async path(program: string, filePath: string): Promise<DiskEntry> {
    const encoded = filePath.split("/").filter((p) => p !== "").map(encodeURIComponent).join("/");
    const r = await this.request("GET", `/v1/programs/${encodeURIComponent(program)}/files/${encoded}`);
    if ((r.headers.get("content-type") ?? "").startsWith("application/json")) return { type: "dir", entries: ((await r.json()) as { entries: Stat[] }).entries };
    return { type: "file", data: new Uint8Array(await r.arrayBuffer()) };
  }

  /** The program's whole disk image. */
  async disk(program: string): Promise<Uint8Array> {
    const r = await this.request("GET", `/v1/programs/${encodeURIComponent(program)}/disk`);
    return new Uint8Array(await r.arrayBuffer());
  }

  private async request(method: string, route: string, options: { body?: Uint8Array; type?: string; json?: unknown; headers?: Record<string, string> } = {}): Promise<Response> {
    const headers: Record<string, string> = { ...options.headers };
    if (this.token !== undefined) headers["authorization"] = `Bearer ${this.token}`;
    let body: Uint8Array | string | undefined = options.body;
    if (options.type !== undefined) headers["content-type"] = options.type;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers["content-type"] = "application/json";
    }
    let r: Response;
    try {
      r = await fetch(new URL(route, this.url), { method, headers, ...(body === undefined ? {} : { body }) });
    } catch (e) {
      const cause = (e as { cause?: { message?: string } }).cause?.message ?? (e instanceof Error ? e.message : String(e));
      throw new ZkguestError("internal", `cannot reach ${this.url}: ${cause}`);
    }
    if (r.ok) return r;
    const text = await r.text();
    let code: ErrorCode = "internal";
    let detail = text.slice(0, 500);
    try {
      const p = JSON.parse(text) as { code?: unknown; detail?: unknown };
      if (typeof p.code === "string" && (ERROR_CODES as readonly string[]).includes(p.code)) code = p.code as ErrorCode;
      if (typeof p.detail === "string") detail = p.detail;
    } catch {
      // Not a problem document (a proxy's page, say): its text is the detail.
    }
    throw new ZkguestError(code, `${detail} (HTTP ${r.status})`);
  }
}
