import { expect } from "chai";
import { startServer, type RunningServer } from "../src/index.js";
import { client, expectProblem, fsckClean } from "./api-client.js";
import { journalGuest } from "./guests.js";
import { admin, createTestDatabase } from "./pg-database.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("zkguest serve on PostgreSQL: the database goes away and comes back", function () {
  this.timeout(120_000);
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let server: RunningServer;
  const errors: string[] = [];

  before(async () => {
    db = await createTestDatabase("outage");
    server = await startServer({ port: 0, database: db.url, workers: 1, queue: { heartbeatSeconds: 10 }, onError: (e) => errors.push(e.message) });
  });

  after(async () => {
    await admin(`ALTER DATABASE ${db.name} ALLOW_CONNECTIONS true`).catch(() => {});
    await server?.close();
    await db?.drop();
  });

  it("requests are 503 meanwhile; the jobs resume and each takes effect once", async () => {
    const call = client(server.url);
    const { id } = (await call("POST", "/v1/programs", { body: await journalGuest(), type: "application/octet-stream" })).json();
    const jobs: string[] = [];
    for (let n = 1; n <= 30; n++) jobs.push((await call("POST", `/v1/programs/${id}/prove`, { json: { args: { n } } })).json().job);
    const proved = async () => {
      let count = 0;
      for (const job of jobs) if ((await call("GET", `/v1/jobs/${job}`)).json().status === "proved") count++;
      return count;
    };
    for (let waited = 0; (await proved()) < 5; waited += 50) {
      if (waited > 30_000) throw new Error("no jobs were proved before the outage");
      await sleep(50);
    }

    // The database goes away: no new connections, every open one cut.
    await admin(`ALTER DATABASE ${db.name} ALLOW_CONNECTIONS false`);
    await admin(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${db.name}'`);
    const during = await call("GET", `/v1/jobs/${jobs[29]}`);
    expectProblem(during, 503, "internal", /the database is unavailable/);
    expect(errors.join("\n"), "the lost connections were reported").to.match(/terminating connection|not currently accepting connections/);
    await sleep(3_000);
    await admin(`ALTER DATABASE ${db.name} ALLOW_CONNECTIONS true`);

    for (const job of jobs) {
      const view = (await call("GET", `/v1/jobs/${job}?wait=60`)).json();
      expect(view.status, `${job}: ${JSON.stringify(view.error)}`).to.equal("proved");
    }
    const runs = (await call("GET", `/v1/programs/${id}/files/runs.txt`)).body.toString();
    expect(runs.trimEnd().split("\n").map(Number).sort((a, b) => a - b)).to.deep.equal(Array.from({ length: 30 }, (_, i) => i + 1));
    const check = fsckClean((await call("GET", `/v1/programs/${id}/disk`)).body);
    expect(check.ok, check.output).to.equal(true);
  });
});
