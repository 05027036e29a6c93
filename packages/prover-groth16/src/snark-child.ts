// The snarkjs process: every curve operation (setup, witness generation, proving, verification,
// the Solidity verifier) runs here, off the host's event loop. snarkjs's own thread pool
// (ffjavascript's) is started once by the first operation and kept with the curve. (A worker
// thread cannot host it: the web-worker module snarkjs's pool is built on takes any thread that
// is not the main one for one of its own workers.)
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import * as snarkjs from "snarkjs";
import type { Job, JobFailure, JobReply } from "./jobs.js";

// A circuit's log() calls and snarkjs's progress go nowhere: nothing here may reach the host's output.
for (const level of ["log", "info", "warn", "error", "debug"] as const) console[level] = () => {};

const mem = (data?: Uint8Array): { type: "mem"; data?: Uint8Array } => (data === undefined ? { type: "mem" } : { type: "mem", data });
const entropy = () => randomBytes(32).toString("hex");

/** Proving keys read once per version of the file (they can be megabytes). */
const zkeys = new Map<string, { version: number; data: Uint8Array }>();

function zkeyBytes(file: string, version: number): Uint8Array {
  const cached = zkeys.get(file);
  if (cached?.version === version) return cached.data;
  const data = new Uint8Array(fs.readFileSync(file));
  if (zkeys.size >= 8) zkeys.delete(zkeys.keys().next().value!);
  zkeys.set(file, { version, data });
  return data;
}

/** Collects what snarkjs logs as errors: some of its checks log and return instead of throwing. */
function errorLogger(): snarkjs.Logger & { errors: string[] } {
  const errors: string[] = [];
  return { errors, debug() {}, info() {}, warn() {}, error: (m: string) => void errors.push(m) };
}

async function witness(wasm: Uint8Array, input: unknown): Promise<{ type: "mem"; data?: Uint8Array }> {
  const wtns = mem();
  await snarkjs.wtns.calculate(input, wasm, wtns);
  return wtns;
}

async function run(job: Job): Promise<unknown> {
  switch (job.op) {
    case "prove": {
      const wtns = await witness(job.wasm, job.input);
      return snarkjs.groth16.prove(mem(zkeyBytes(job.zkey, job.zkeyVersion)), wtns);
    }
    case "publicSignals": {
      const values = await snarkjs.wtns.exportJson(await witness(job.wasm, job.input));
      return values.slice(1, 1 + job.count).map(String);
    }
    case "verify":
      try {
        return await snarkjs.groth16.verify(job.vkey, job.publicSignals, job.proof);
      } catch (e) {
        throw failure("invalid_state", `groth16 proof refused: its points are not valid points of BN254 (${e instanceof Error ? e.message : String(e)})`);
      }
    case "setup":
      return setup(job);
    case "exportVerifier":
      return snarkjs.zKey.exportSolidityVerifier(mem(zkeyBytes(job.zkey, job.zkeyVersion)), { groth16: job.template });
  }
}

/** Phase 1 (the operator's ptau file, or a development ceremony made and kept at devPtau), then phase 2 for the circuit. */
async function setup(job: Extract<Job, { op: "setup" }>): Promise<{ zkey: Uint8Array; vkey: Record<string, unknown> }> {
  let ptau: string | { type: "mem"; data?: Uint8Array } = job.ptau ?? job.devPtau;
  if (job.ptau === undefined && !fs.existsSync(job.devPtau)) {
    const { buildBn128 } = await import("ffjavascript");
    const fresh = mem();
    const contributed = mem();
    const prepared = mem();
    await snarkjs.powersOfTau.newAccumulator(await buildBn128(), job.power, fresh);
    await snarkjs.powersOfTau.contribute(fresh, contributed, "zkguest development ceremony (insecure)", entropy());
    await snarkjs.powersOfTau.preparePhase2(contributed, prepared);
    ptau = prepared;
    fs.mkdirSync(job.devPtauDir, { recursive: true });
    const aside = `${job.devPtau}.${process.pid}.${Date.now()}.tmp`;
    fs.writeFileSync(aside, prepared.data!);
    fs.renameSync(aside, job.devPtau);
  }
  const logger = errorLogger();
  const initial = mem();
  const made = await snarkjs.zKey.newZKey(mem(job.r1cs), ptau, initial, logger);
  if (made === -1 || initial.data === undefined) throw failure("invalid_state", `setup: snarkjs refused the powers of tau: ${logger.errors.join("; ") || "no reason given"}`);
  const final = mem();
  await snarkjs.zKey.contribute(initial, final, "zkguest setup", entropy());
  return { zkey: final.data!, vkey: await snarkjs.zKey.exportVerificationKey(final) };
}

function failure(code: JobFailure["code"], message: string): JobFailure {
  return { code, message };
}

/** What a failed job reports: a failed circuit assertion is the guest's input's fault, anything else is named as it is. */
function describe(e: unknown): JobFailure {
  if (typeof e === "object" && e !== null && "code" in e && "message" in e && !(e instanceof Error)) return e as JobFailure;
  const message = e instanceof Error ? e.message : String(e);
  const assertion = /Assert Failed\.?\s*(?:Error in template (\S+) line: (\d+))?/.exec(message);
  if (assertion) {
    const where = assertion[1] ? `the constraint of template ${assertion[1]} at line ${assertion[2]}` : "a constraint";
    return failure("guest_error", `the circuit input does not satisfy the circuit: ${where} fails`);
  }
  return failure("internal", message.trim());
}

const reply = (r: JobReply) => process.send!(r);
process.on("message", (job: Job & { id: number }) => {
  run(job).then(
    (value) => reply({ id: job.id, ok: true, value }),
    (e: unknown) => reply({ id: job.id, ok: false, error: describe(e) }),
  );
});
// The host is gone: so is this process.
process.on("disconnect", () => process.exit(0));
