import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ANONYMOUS, EmbeddedBackend, startServer } from "../src/index.js";
import { DevProver, type Prover } from "@zkguest/host-sdk";
import { client, expectProblem } from "./api-client.js";
import { apiSuite, TEST_LIMITS, TOKENS } from "./api-suite.js";
import { helloGuest, spinningGuest } from "./guests.js";

describe("zkguest serve, embedded (one process, a data directory)", function () {
  this.timeout(30_000);

  describe("the API", () => {
    let dir: string;
    apiSuite(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "zkguest-serve-"));
      const server = await startServer({ port: 0, dataDir: dir, workers: 2, tokens: TOKENS, api: TEST_LIMITS });
      return {
        url: server.url,
        close: async () => {
          await server.close();
          fs.rmSync(dir, { recursive: true, force: true });
        },
      };
    });
  });

  it("without tokens, every request is the one anonymous owner's", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zkguest-serve-"));
    const server = await startServer({ port: 0, dataDir: dir, workers: 1 });
    try {
      const call = client(server.url);
      const deployed = await call("POST", "/v1/programs", { body: await helloGuest(), type: "application/octet-stream" });
      expect(deployed.status).to.equal(201);
      const listing = await call("GET", `/v1/programs/${deployed.json().id}/files`);
      expect(listing.json()).to.deep.equal({ path: "/", entries: [] });
    } finally {
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the embedded backend across a restart", function () {
  this.timeout(30_000);

  it("resumes the jobs still queued; a job the stop interrupted is failed, not run twice", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zkguest-restart-"));
    try {
      let backend = await EmbeddedBackend.open({ dataDir: dir, host: { poolSize: 1 } });
      const { id } = await backend.deploy(ANONYMOUS, await helloGuest());
      const first = await backend.prove(ANONYMOUS, id, { numbers: [1] });
      const firstView = await backend.waitForJob(ANONYMOUS, first.job, 20_000, new AbortController().signal);
      expect(firstView?.status).to.equal("proved");
      await backend.close();
      // What a stop leaves on file: a job queued, one running.
      const jobs = path.join(dir, "jobs");
      const template = JSON.parse(fs.readFileSync(path.join(jobs, `${first.job}.json`), "utf8"));
      const queued = { ...template, id: "11111111-1111-4111-8111-111111111111", status: "queued", args: { numbers: [2, 3] }, report: undefined, error: undefined };
      const running = { ...template, id: "22222222-2222-4222-8222-222222222222", status: "running", report: undefined, error: undefined };
      fs.writeFileSync(path.join(jobs, `${queued.id}.json`), JSON.stringify(queued));
      fs.writeFileSync(path.join(jobs, `${running.id}.json`), JSON.stringify(running));
      backend = await EmbeddedBackend.open({ dataDir: dir, host: { poolSize: 1 } });
      try {
        const resumed = await backend.waitForJob(ANONYMOUS, queued.id, 20_000, new AbortController().signal);
        expect(resumed?.status).to.equal("proved");
        expect((resumed?.report as { witnesses: { data: string }[] }).witnesses[0]!.data).to.equal(Buffer.from('{"numbers":[2,3],"sum":5}').toString("hex"));
        const interrupted = await backend.job(ANONYMOUS, running.id);
        expect(interrupted?.status).to.equal("failed");
        expect(interrupted?.error?.message).to.match(/stopped while the job ran/);
        expect((await backend.job(ANONYMOUS, first.job))?.status).to.equal("proved");
      } finally {
        await backend.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("what one client can pile up is bounded", function () {
  this.timeout(60_000);

  it("an owner's jobs queued or running beyond the limit: 429 limit_exceeded", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zkguest-cap-"));
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const dev = new DevProver({ devMode: true });
    // A prover that holds every proof until the test lets go: the jobs stay running.
    const prover: Prover = { name: "held", prove: async (w, p) => (await gate, dev.prove(w, p)), verify: (p, r, w) => dev.verify(p, r, w) };
    const server = await startServer({ port: 0, dataDir: dir, workers: 1, maxOpenJobs: 2, host: { prover } });
    try {
      const call = client(server.url);
      const { id } = (await call("POST", "/v1/programs", { body: await helloGuest(), type: "application/octet-stream" })).json();
      const first = await call("POST", `/v1/programs/${id}/prove`, { json: { args: { numbers: [1] } } });
      const second = await call("POST", `/v1/programs/${id}/prove`, { json: { args: { numbers: [2] } } });
      expect([first.status, second.status]).to.deep.equal([202, 202]);
      expectProblem(await call("POST", `/v1/programs/${id}/prove`, { json: { args: { numbers: [3] } } }), 429, "limit_exceeded", /2 jobs queued or running/);
      release();
      expect((await call("GET", `/v1/jobs/${first.json().job}?wait=30`)).json().status).to.equal("proved");
      expect((await call("GET", `/v1/jobs/${second.json().job}?wait=30`)).json().status).to.equal("proved");
      expect((await call("POST", `/v1/programs/${id}/prove`, { json: { args: { numbers: [3] } } })).status).to.equal(202);
    } finally {
      release();
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("executes running at once beyond the limit: 503", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zkguest-cap-"));
    const server = await startServer({ port: 0, dataDir: dir, workers: 1, api: { maxConcurrentExecutes: 1 } });
    try {
      const call = client(server.url);
      const { id } = (await call("POST", "/v1/programs", { body: await spinningGuest(), type: "application/octet-stream" })).json();
      const answers = await Promise.all([1, 2].map(() => call("POST", `/v1/programs/${id}/execute`, { json: { args: { spin: 2_000_000 } } })));
      expect(answers.map((a) => a.status).sort()).to.deep.equal([200, 503]);
      expectProblem(answers.find((a) => a.status === 503)!, 503, "limit_exceeded", /1 executes are running/);
    } finally {
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
