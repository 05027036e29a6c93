import { expect } from "chai";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";

// Talking to a running server in tests: requests with a token, raw requests (paths a fetch
// would normalize), and the checks every error answer must pass.

export interface Answer {
  readonly status: number;
  readonly type: string;
  readonly headers: Headers;
  readonly body: Buffer;
  json(): any;
}

export interface RequestOptions {
  readonly token?: string;
  readonly json?: unknown;
  readonly body?: Uint8Array | string;
  readonly type?: string;
  readonly headers?: Record<string, string>;
}

export function client(url: string) {
  return async (method: string, route: string, options: RequestOptions = {}): Promise<Answer> => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers["authorization"] = `Bearer ${options.token}`;
    let body: Uint8Array | string | undefined = options.body;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers["content-type"] ??= "application/json";
    }
    if (options.type !== undefined) headers["content-type"] = options.type;
    const r = await fetch(url + route, { method, headers, ...(body === undefined ? {} : { body }) });
    const bytes = Buffer.from(await r.arrayBuffer());
    return {
      status: r.status,
      type: (r.headers.get("content-type") ?? "").split(";")[0]!,
      headers: r.headers,
      body: bytes,
      json: () => JSON.parse(bytes.toString("utf8")),
    };
  };
}

/** A GET with the path sent exactly as given (fetch would resolve `..` and `%2e%2e` itself). */
export function rawGet(url: string, rawPath: string, token?: string): Promise<{ status: number; body: string; type: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ hostname, port, path: rawPath, method: "GET", headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8"), type: (res.headers["content-type"] ?? "").split(";")[0]! }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** An error answer: problem+json with the protocol code, the status, and no stack trace. */
export function expectProblem(answer: { status: number; type: string; body: Buffer | string }, status: number, code: string, detail?: RegExp): void {
  const text = answer.body.toString();
  expect(answer.status, text).to.equal(status);
  expect(answer.type).to.equal("application/problem+json");
  const p = JSON.parse(text);
  expect(p).to.include({ status, code, type: `urn:zkguest:error:${code}` });
  expect(Object.keys(p).sort()).to.deep.equal(["code", "detail", "status", "title", "type"]);
  expect(text).not.to.match(/\bat .*\.(js|ts):\d+/);
  if (detail) expect(p.detail).to.match(detail);
}

/** Checks an image with fsck.fat (read-only); gives its output when it is not clean. */
export function fsckClean(image: Uint8Array): { ok: boolean; output: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zkguest-fsck-"));
  try {
    const file = path.join(dir, "disk.img");
    fs.writeFileSync(file, image);
    const r = spawnSync("fsck.fat", ["-n", file], { encoding: "utf8" });
    return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Reads a file from an image with mtools' mtype (a reader we did not write). */
export function mtype(image: Uint8Array, file: string): Buffer {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zkguest-mtype-"));
  try {
    const img = path.join(dir, "disk.img");
    fs.writeFileSync(img, image);
    const r = spawnSync("mtype", ["-i", img, `::${file}`], { env: { ...process.env, MTOOLS_SKIP_CHECK: "1" } });
    if (r.status !== 0) throw new Error(`mtype ${file}: ${r.stderr.toString()}`);
    return r.stdout;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
