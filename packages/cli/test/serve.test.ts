import { expect } from "chai";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { BIN, exited, REPO, startZkguest, tempDir, zkguest, type Started } from "./cli-process.js";

const TOKEN = "serve-test-token-0123456789";

describe("zkguest serve and zkguest remote", function () {
  this.timeout(60_000);
  let dir: string;
  let server: Started | undefined;
  let remote: (args: string[], input?: string) => ReturnType<typeof zkguest>;
  let program: string;

  before(async () => {
    dir = tempDir("serve");
    const built = zkguest(["build", path.join(REPO, "examples/hello-js/controller.ts"), "-o", path.join(dir, "hello.zkg")]);
    if (built.status !== 0) throw new Error(built.stderr);
    server = await startZkguest(["serve", "--port", "0", "--data", path.join(dir, "data"), "--workers", "1"], { ZKGUEST_TOKEN: TOKEN });
    const url = server.url!;
    remote = (args, input) => zkguest(["remote", ...args, "--url", url, "--token", TOKEN], { cwd: dir, ...(input === undefined ? {} : { input }) });
  });

  after(async () => {
    if (server) {
      server.child.kill("SIGKILL");
      await exited(server.child);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("serve prints 'listening on http://HOST:PORT'", () => {
    expect(server!.url!).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it("remote deploy prints the program id; prove --wait prints the proved job; cat gives the proof", () => {
    const deployed = remote(["deploy", "hello.zkg"]);
    expect(deployed.status, deployed.stderr).to.equal(0);
    program = deployed.stdout.trim();
    expect(program).to.match(/^[0-9a-f]{64}$/);
    const proved = remote(["prove", program, "--args", '{"numbers":[1,2,3]}', "--wait"]);
    expect(proved.status, proved.stderr).to.equal(0);
    const job = JSON.parse(proved.stdout);
    expect(job.status).to.equal("proved");
    const cat = spawnSync(process.execPath, [BIN, "remote", "cat", program, "/var/share/proof.bin", "--url", server!.url!, "--token", TOKEN]);
    expect(cat.status, cat.stderr.toString()).to.equal(0);
    expect(cat.stdout.toString("hex")).to.equal(job.report.proof);
    const ls = remote(["ls", program, "/var/share"]);
    expect(ls.stdout).to.match(/^- +\d+ {2}\S+ {2}PROOF\.BIN\n$/);
  });

  it("prove without --wait prints the job id; status --wait prints the job once it is over", () => {
    const queued = remote(["prove", program, "--args", "-"], '{"numbers":[5]}');
    expect(queued.status, queued.stderr).to.equal(0);
    const id = queued.stdout.trim();
    expect(id).to.match(/^[0-9a-f-]{36}$/);
    const status = remote(["status", id, "--wait", "--timeout", "30"]);
    expect(status.status, status.stderr).to.equal(0);
    expect(JSON.parse(status.stdout)).to.include({ job: id, status: "proved" });
  });

  it("execute (--args @FILE) prints the report; disk writes an image fsck.fat accepts", () => {
    fs.writeFileSync(path.join(dir, "args.json"), '{"numbers":[2,2]}');
    const executed = remote(["execute", program, "--args", "@args.json"]);
    expect(executed.status, executed.stderr).to.equal(0);
    const report = JSON.parse(executed.stdout) as { status: string; logs: { fields?: unknown }[] };
    expect(report.status).to.equal("executed");
    expect(report.logs[0]!.fields).to.deep.equal({ count: 2, sum: 4 });
    const image = path.join(dir, "disk.img");
    const disk = remote(["disk", program, "-o", image]);
    expect(disk.status, disk.stderr).to.equal(0);
    const fsck = spawnSync("fsck.fat", ["-n", image], { encoding: "utf8" });
    expect(fsck.status, fsck.stdout).to.equal(0);
  });

  it("errors are one line: an unknown program, a wrong token, a server that is not there, bad flags", () => {
    const unknown = remote(["prove", "0".repeat(64), "--args", "1"]);
    expect(unknown.status).to.equal(1);
    expect(unknown.stderr).to.match(/^zkguest: not_found: no program 0{64} is deployed here \(HTTP 404\)\n$/);
    const wrong = zkguest(["remote", "ls", program, "--url", server!.url!, "--token", "wrong-token-0123456789"]);
    expect(wrong.status).to.equal(1);
    expect(wrong.stderr).to.match(/^zkguest: invalid_state: the bearer token is not one this server knows \(HTTP 401\)\n$/);
    const away = zkguest(["remote", "ls", program, "--url", "http://127.0.0.1:1"]);
    expect(away.status).to.equal(1);
    expect(away.stderr).to.match(/^zkguest: internal: cannot reach http:\/\/127\.0\.0\.1:1: /);
    const badArgs = remote(["prove", program, "--args", "{x"]);
    expect(badArgs.status).to.equal(2);
    expect(badArgs.stderr).to.match(/^zkguest: usage: remote prove: --args is not JSON: /);
    expect(remote(["frobnicate"]).stderr).to.match(/^zkguest: usage: unknown remote command 'frobnicate'/);
  });

  it("--help works for serve, worker and remote; serve refuses --workers 0 without a database, worker runs only with one", () => {
    for (const args of [["serve", "--help"], ["worker", "--help"], ["remote", "--help"], ["remote", "prove", "--help"]]) {
      const r = zkguest(args);
      expect(r.status, args.join(" ")).to.equal(0);
      expect(r.stdout).to.match(/^usage: zkguest (serve|worker|remote)/);
    }
    const noDatabase = zkguest(["worker"]);
    expect(noDatabase.status).to.equal(2);
    expect(noDatabase.stderr).to.match(/^zkguest: usage: worker: --database URL is needed/);
    const apiOnly = zkguest(["serve", "--workers", "0"]);
    expect(apiOnly.status).to.equal(2);
    expect(apiOnly.stderr).to.match(/^zkguest: usage: serve: workers 0 \(an API-only process\) needs a database/);
    const badToken = zkguest(["serve", "--port", "0", "--token", "short"]);
    expect(badToken.status).to.equal(2);
    expect(badToken.stderr).to.match(/^zkguest: usage: serve: the token of 'default': expected 16 to 256 characters/);
  });

  it("SIGTERM stops the server: exit 0", async () => {
    server!.child.kill("SIGTERM");
    expect(await exited(server!.child)).to.equal(0);
    expect(server!.stderr()).to.include("SIGTERM, stopping");
    server = undefined;
  });
});
