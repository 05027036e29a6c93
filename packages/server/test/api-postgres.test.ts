import { startServer } from "../src/index.js";
import { apiSuite, TEST_LIMITS, TOKENS } from "./api-suite.js";
import { createTestDatabase } from "./pg-database.js";

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
