import { expect } from "chai";
import Ajv2020 from "ajv/dist/2020.js";
import { client, expectProblem, fsckClean, mtype, rawGet, type Answer } from "./api-client.js";
import { helloGuest, throwingGuest } from "./guests.js";

/** A server under test, with two owners' tokens. */
export interface TestServer {
  readonly url: string;
  close(): Promise<void>;
}

export const ALICE = "alice-token-0123456789";
export const BOB = "bob-token-0123456789ab";
export const TOKENS = { alice: ALICE, bob: BOB };
/** Limits the servers under test are started with, small enough to cross in a test. */
export const TEST_LIMITS = { maxArtifactBytes: 256 * 1024, maxJsonBytes: 64 * 1024 };

/**
 * The API end to end, whatever runs behind it: deploy, prove, wait, read the proof file,
 * execute, every error status, owners. `start` starts a server with TOKENS and TEST_LIMITS.
 */
export function apiSuite(start: () => Promise<TestServer>): void {
  let server: TestServer;
  let call: ReturnType<typeof client>;
  let hello: Uint8Array;
  let helloId: string;
  let throwsId: string;
  let openapi: any;

  const as = (token: string) => ({
    get: (route: string) => call("GET", route, { token }),
    post: (route: string, json?: unknown, headers?: Record<string, string>) => call("POST", route, { token, ...(json === undefined ? {} : { json }), ...(headers ? { headers } : {}) }),
    deploy: (bytes: Uint8Array) => call("POST", "/v1/programs", { token, body: bytes, type: "application/octet-stream" }),
  });
  const alice = () => as(ALICE);
  const bob = () => as(BOB);

  /** Validates a JSON answer against a schema of the server's own OpenAPI document. */
  function expectSchema(name: string, value: unknown): void {
    const ajv = new Ajv2020.default({ strict: false, validateFormats: false });
    ajv.addSchema({ $id: "openapi", components: openapi.components });
    const validate = ajv.getSchema(`openapi#/components/schemas/${name}`)!;
    expect(validate(value), JSON.stringify(validate.errors)).to.equal(true);
  }

  async function proveAndWait(id: string, args: unknown, token = ALICE): Promise<any> {
    const queued = await as(token).post(`/v1/programs/${id}/prove`, { args });
    expect(queued.status, queued.body.toString()).to.equal(202);
    const { job } = queued.json();
    expect(queued.headers.get("location")).to.equal(`/v1/jobs/${job}`);
    const done = await as(token).get(`/v1/jobs/${job}?wait=30`);
    expect(done.status).to.equal(200);
    return done.json();
  }

  before(async function () {
    this.timeout(60_000);
    server = await start();
    call = client(server.url);
    hello = await helloGuest();
    openapi = (await call("GET", "/v1/openapi.json")).json();
  });

  after(async () => {
    await server?.close();
  });

  describe("deploy", () => {
    it("201 with the program id, Location; again: 200, the same id", async () => {
      const first = await alice().deploy(hello);
      expect(first.status, first.body.toString()).to.equal(201);
      helloId = first.json().id;
      expect(helloId).to.match(/^[0-9a-f]{64}$/);
      expect(first.headers.get("location")).to.equal(`/v1/programs/${helloId}`);
      expectSchema("Deployed", first.json());
      const again = await alice().deploy(hello);
      expect(again.status).to.equal(200);
      expect(again.json()).to.deep.equal({ id: helloId });
      const throws = await alice().deploy(await throwingGuest());
      expect(throws.status).to.equal(201);
      throwsId = throws.json().id;
    });

    it("bytes that are not an artifact: 400 malformed_frame", async () => {
      expectProblem(await alice().deploy(new TextEncoder().encode("not an artifact")), 400, "malformed_frame", /not a zkguest artifact/);
    });

    it("another content type: 415; an empty body: 415", async () => {
      expectProblem(await call("POST", "/v1/programs", { token: ALICE, json: { code: "x" } }), 415, "malformed_frame");
      expectProblem(await call("POST", "/v1/programs", { token: ALICE, body: "abc", type: "text/plain" }), 415, "malformed_frame");
      expectProblem(await call("POST", "/v1/programs", { token: ALICE, body: new Uint8Array(0), type: "application/octet-stream" }), 415, "malformed_frame");
    });

    it("a body over the configured size: 413 limit_exceeded", async () => {
      expectProblem(await alice().deploy(new Uint8Array(TEST_LIMITS.maxArtifactBytes + 1)), 413, "limit_exceeded");
    });
  });

  describe("prove, wait, read the proof back", () => {
    it("202 {job}; the job ends proved with its report; the proof file holds the report's proof", async () => {
      const job = await proveAndWait(helloId, { numbers: [1, 2, 3] });
      expectSchema("Job", job);
      expect(job.status).to.equal("proved");
      expect(job.program).to.equal(helloId);
      expect(job.report.status).to.equal("proved");
      expect(job.report.files).to.deep.equal([{ path: "/VAR/SHARE/PROOF.BIN", bytes: job.report.proof.length / 2 }]);
      const file = await alice().get(`/v1/programs/${helloId}/files/var/share/proof.bin`);
      expect(file.status).to.equal(200);
      expect(file.type).to.equal("application/octet-stream");
      expect(file.body.toString("hex")).to.equal(job.report.proof);
    });

    it("a directory's listing as JSON, the root's too", async () => {
      const dir = await alice().get(`/v1/programs/${helloId}/files/var/share/`);
      expect(dir.status).to.equal(200);
      expectSchema("Listing", dir.json());
      expect(dir.json().path).to.equal("/var/share");
      expect(dir.json().entries.map((e: { name: string; type: string }) => [e.name, e.type])).to.deep.equal([["PROOF.BIN", "file"]]);
      const root = await alice().get(`/v1/programs/${helloId}/files`);
      expect(root.json().entries.map((e: { name: string }) => e.name)).to.deep.equal(["VAR"]);
    });

    it("the whole disk: an image fsck.fat accepts, where mtools finds the proof", async () => {
      const job = await proveAndWait(helloId, { numbers: [4, 5] });
      const disk = await alice().get(`/v1/programs/${helloId}/disk`);
      expect(disk.status).to.equal(200);
      const check = fsckClean(disk.body);
      expect(check.ok, check.output).to.equal(true);
      expect(mtype(disk.body, "/VAR/SHARE/PROOF.BIN").toString("hex")).to.equal(job.report.proof);
    });

    it("a guest that fails: the job ends failed with the guest's error and the report", async () => {
      const job = await proveAndWait(throwsId, [7]);
      expect(job.status).to.equal("failed");
      expect(job.error).to.deep.equal({ code: "guest_error", message: "RangeError: bad input [7]" });
      expect(job.report.status).to.equal("failed");
      expect(job.report.logs[0]).to.include({ phase: "witness", source: "guest", message: "about to fail" });
      expectSchema("Job", job);
    });

    it("without ?wait the status is read at once; an idempotency key gives the same job for the same request", async () => {
      const key = { "idempotency-key": `k-${Date.now()}` };
      const a = await alice().post(`/v1/programs/${helloId}/prove`, { args: { numbers: [9] } }, key);
      const b = await alice().post(`/v1/programs/${helloId}/prove`, { args: { numbers: [9] } }, key);
      expect(a.status).to.equal(202);
      expect(b.status).to.equal(202);
      expect(b.json().job).to.equal(a.json().job);
      const now = await alice().get(`/v1/jobs/${a.json().job}`);
      expect(["queued", "running", "proved"]).to.include(now.json().status);
      expectProblem(await alice().post(`/v1/programs/${helloId}/prove`, { args: { numbers: [10] } }, key), 409, "already_exists", /idempotency key/);
      expectProblem(await alice().post(`/v1/programs/${helloId}/prove`, { args: 1 }, { "idempotency-key": "has space" }), 400, "malformed_frame");
      const done = await alice().get(`/v1/jobs/${a.json().job}?wait=30`);
      expect(done.json().status).to.equal("proved");
    });
  });

  describe("execute", () => {
    it("200 {report}, status executed, nothing proved", async () => {
      const r = await alice().post(`/v1/programs/${helloId}/execute`, { args: { numbers: [40, 2] } });
      expect(r.status, r.body.toString()).to.equal(200);
      expectSchema("Executed", r.json());
      const { report } = r.json();
      expect(report.status).to.equal("executed");
      expect(report.proof).to.equal(undefined);
      expect(Buffer.from(report.witnesses[0].data, "hex").toString()).to.equal('{"numbers":[40,2],"sum":42}');
    });
  });

  describe("bad input", () => {
    const bad: [string, () => Promise<Answer>, number, string][] = [
      ["malformed JSON", () => call("POST", `/v1/programs/${helloId}/prove`, { token: ALICE, body: "{args:", type: "application/json" }), 400, "malformed_frame"],
      ["an empty JSON body", () => call("POST", `/v1/programs/${helloId}/prove`, { token: ALICE, body: "", type: "application/json" }), 400, "malformed_frame"],
      ["no args", () => alice().post(`/v1/programs/${helloId}/prove`, {}), 400, "malformed_frame"],
      ["an unknown field", () => alice().post(`/v1/programs/${helloId}/execute`, { args: 1, priority: 9 }), 400, "malformed_frame"],
      ["args nested deeper than 64", () => alice().post(`/v1/programs/${helloId}/execute`, { args: JSON.parse("[".repeat(70) + "]".repeat(70)) }), 400, "malformed_frame"],
      ["a __proto__ key", () => call("POST", `/v1/programs/${helloId}/prove`, { token: ALICE, body: '{"args":{"__proto__":{"x":1}}}', type: "application/json" }), 400, "malformed_frame"],
      ["JSON sent as text/plain", () => call("POST", `/v1/programs/${helloId}/prove`, { token: ALICE, body: '{"args":1}', type: "text/plain" }), 415, "malformed_frame"],
      ["bytes sent to prove", () => call("POST", `/v1/programs/${helloId}/prove`, { token: ALICE, body: '{"args":1}', type: "application/octet-stream" }), 415, "malformed_frame"],
      ["a JSON body over the configured size", () => alice().post(`/v1/programs/${helloId}/prove`, { args: "x".repeat(TEST_LIMITS.maxJsonBytes) }), 413, "limit_exceeded"],
      ["an unknown program", () => alice().post(`/v1/programs/${"0".repeat(64)}/prove`, { args: 1 }), 404, "not_found"],
      ["a malformed program id", () => alice().post("/v1/programs/xyz/execute", { args: 1 }), 404, "not_found"],
      ["an unknown job", () => alice().get("/v1/jobs/00000000-0000-4000-8000-000000000000"), 404, "not_found"],
      ["a malformed job id", () => alice().get("/v1/jobs/..%2F..%2Fetc"), 404, "not_found"],
      ["a wait too long", () => alice().get("/v1/jobs/00000000-0000-4000-8000-000000000000?wait=3600"), 400, "malformed_frame"],
      ["a file that is not there", () => alice().get(`/v1/programs/${helloId}/files/var/nothere.bin`), 404, "not_found"],
      ["a name FAT-16 cannot hold", () => alice().get(`/v1/programs/${helloId}/files/var/proof.json`), 400, "invalid_name"],
      ["an unknown route", () => alice().get("/v2/programs"), 404, "not_found"],
    ];
    for (const [what, send, status, code] of bad) {
      it(`${what}: ${status} ${code}`, async () => expectProblem(await send(), status, code));
    }

    it("path traversal in /files/ is refused, however it is spelled (400 invalid_path)", async () => {
      for (const p of ["../../../etc/passwd", "%2e%2e/%2e%2e/etc/passwd", "var/../../x", "var/./share", "var//share", "var%5c..%5cx", "var/%00x"]) {
        const r = await rawGet(server.url, `/v1/programs/${helloId}/files/${p}`, ALICE);
        expectProblem({ ...r, body: r.body }, 400, "invalid_path");
      }
      const long = await rawGet(server.url, `/v1/programs/${helloId}/files/${"a/".repeat(200)}`, ALICE);
      expectProblem(long, 400, "invalid_path", /longer than 255 bytes/);
    });
  });

  describe("owners", () => {
    it("without a token, or with a wrong one: 401 with WWW-Authenticate; the OpenAPI document is public", async () => {
      const none = await call("GET", `/v1/programs/${helloId}/files`);
      expectProblem(none, 401, "invalid_state");
      expect(none.headers.get("www-authenticate")).to.match(/^Bearer/);
      expectProblem(await as("wrong-token-0123456789").get(`/v1/programs/${helloId}/files`), 401, "invalid_state");
      expectProblem(await call("POST", "/v1/programs", { body: hello, type: "application/octet-stream" }), 401, "invalid_state");
      expect((await call("GET", "/v1/openapi.json")).status).to.equal(200);
    });

    it("one owner cannot read or run another's program, nor see its jobs (404, as unknown)", async () => {
      expectProblem(await bob().get(`/v1/programs/${helloId}/files/var/share/proof.bin`), 404, "not_found");
      expectProblem(await bob().get(`/v1/programs/${helloId}/disk`), 404, "not_found");
      expectProblem(await bob().post(`/v1/programs/${helloId}/prove`, { args: { numbers: [1] } }), 404, "not_found");
      expectProblem(await bob().post(`/v1/programs/${helloId}/execute`, { args: { numbers: [1] } }), 404, "not_found");
      const job = (await alice().post(`/v1/programs/${helloId}/prove`, { args: { numbers: [2] } })).json().job;
      expectProblem(await bob().get(`/v1/jobs/${job}`), 404, "not_found");
      expectProblem(await bob().get(`/v1/jobs/${job}?wait=1`), 404, "not_found");
    });

    it("the same artifact deployed by another owner is that owner's program, on a disk of its own", async () => {
      const deployed = await bob().deploy(hello);
      expect(deployed.status).to.equal(201);
      expect(deployed.json().id).to.equal(helloId);
      expectProblem(await bob().get(`/v1/programs/${helloId}/files/var/share/proof.bin`), 404, "not_found");
      const job = await proveAndWait(helloId, { numbers: [100] }, BOB);
      expect(job.status).to.equal("proved");
      const bobs = await bob().get(`/v1/programs/${helloId}/files/var/share/proof.bin`);
      const alices = await alice().get(`/v1/programs/${helloId}/files/var/share/proof.bin`);
      expect(bobs.body.toString("hex")).to.equal(job.report.proof);
      expect(alices.body.toString("hex")).not.to.equal(job.report.proof);
    });
  });

  describe("the OpenAPI document", () => {
    it("describes every route, with the schemas of what they take and answer", () => {
      expect(openapi.openapi).to.equal("3.1.0");
      expect(Object.keys(openapi.paths).sort()).to.deep.equal([
        "/v1/jobs/{job}",
        "/v1/programs",
        "/v1/programs/{id}/disk",
        "/v1/programs/{id}/execute",
        "/v1/programs/{id}/files",
        "/v1/programs/{id}/files/{path}",
        "/v1/programs/{id}/prove",
      ]);
      expect(openapi.paths["/v1/programs"].post.requestBody.content).to.have.property("application/octet-stream");
      expect(openapi.paths["/v1/programs/{id}/prove"].post.parameters.map((p: { name: string }) => p.name)).to.include("idempotency-key");
      expect(openapi.paths["/v1/jobs/{job}"].get.parameters.map((p: { name: string }) => p.name)).to.include("wait");
      expect(openapi.components.securitySchemes.bearer).to.deep.equal({ type: "http", scheme: "bearer" });
      expect(openapi.components.schemas.Problem.properties.code.enum).to.include("not_found");
    });
  });
}
