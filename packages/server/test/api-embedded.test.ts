import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ANONYMOUS, EmbeddedBackend, startServer } from "../src/index.js";
import { client } from "./api-client.js";
import { apiSuite, TEST_LIMITS, TOKENS } from "./api-suite.js";
import { helloGuest } from "./guests.js";

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
