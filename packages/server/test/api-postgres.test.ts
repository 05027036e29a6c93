import { expect } from "chai";
import { startServer } from "../src/index.js";
import { client, expectProblem } from "./api-client.js";
import { apiSuite, TEST_LIMITS, TOKENS } from "./api-suite.js";
import { createTestDatabase } from "./pg-database.js";
import { helloGuest } from "./guests.js";

describe("zkguest serve on PostgreSQL (jobs through pg-boss, disks as blocks)", function () {
  this.timeout(30_000);

  describe("the API", () => {
    apiSuite(async () => {
      const db = await createTestDatabase("api");
      const server = await startServer({ port: 0, database: db.url, workers: 2, tokens: TOKENS, api: TEST_LIMITS, queue: { heartbeatSeconds: 10 } });
      return {
        url: server.url,
        close: async () => {
          await server.close();
          await db.drop();
        },
      };
    });
  });
});

describe("zkguest serve on PostgreSQL, API only (--workers 0)", function () {
  this.timeout(30_000);

  it("jobs wait queued for a worker; an owner's jobs beyond the limit are 429", async () => {
    const db = await createTestDatabase("apionly");
    const server = await startServer({ port: 0, database: db.url, workers: 0, maxOpenJobs: 2 });
    try {
      const call = client(server.url);
      const { id } = (await call("POST", "/v1/programs", { body: await helloGuest(), type: "application/octet-stream" })).json();
      const jobs = [];
      for (const n of [1, 2]) jobs.push((await call("POST", `/v1/programs/${id}/prove`, { json: { args: { numbers: [n] } } })).json().job);
      expectProblem(await call("POST", `/v1/programs/${id}/prove`, { json: { args: { numbers: [3] } } }), 429, "limit_exceeded");
      const waited = await call("GET", `/v1/jobs/${jobs[0]}?wait=1`);
      expect(waited.json().status).to.equal("queued");
    } finally {
      await server.close();
      await db.drop();
    }
  });
});
