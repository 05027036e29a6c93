import { expect } from "chai";
import { DEFAULT_RUN_LIMITS, LimitRangeError, limitRange, resolveLimits } from "../src/run-limits.js";

const refusal = (f: () => unknown): LimitRangeError => {
  try {
    f();
  } catch (e) {
    if (e instanceof LimitRangeError) return e;
    throw e;
  }
  throw new Error("expected a LimitRangeError");
};

describe("run limits: only what the engines can honour is accepted", () => {
  it("memory: up to the QuickJS module's 2 GiB less the engine's headroom for JS, 4 GiB for wasm", () => {
    expect(limitRange("memoryBytes", "js")).to.include({ min: 1, max: 2 ** 31 - 64 * 2 ** 20 });
    expect(limitRange("memoryBytes", "wasm")).to.include({ min: 1, max: 2 ** 32 });
    expect(resolveLimits(DEFAULT_RUN_LIMITS, { memoryBytes: 2 ** 32 }, "wasm").memoryBytes).to.equal(2 ** 32);
    const huge = refusal(() => resolveLimits(DEFAULT_RUN_LIMITS, { memoryBytes: 2 ** 52 }));
    expect(huge.message).to.equal("limits.memoryBytes: expected an integer from 1 to 4294967296 (a wasm32 memory's 65,536 pages), got 4503599627370496");
    expect(refusal(() => resolveLimits(DEFAULT_RUN_LIMITS, { memoryBytes: 2 ** 31 }, "js")).message).to.equal(
      "limits.memoryBytes: expected an integer from 1 to 2080374784 for js guests (the QuickJS module's 2 GiB memory, less the engine's 64 MiB), got 2147483648",
    );
  });

  it("stack, time and frame size within what the engines and the protocol can do; the rest any positive integer", () => {
    expect(resolveLimits(DEFAULT_RUN_LIMITS, { stackBytes: 64 * 2 ** 20 }, "wasm").stackBytes).to.equal(64 * 2 ** 20);
    expect(refusal(() => resolveLimits(DEFAULT_RUN_LIMITS, { stackBytes: 8 * 2 ** 20 }, "js")).limit).to.equal("stackBytes");
    expect(refusal(() => resolveLimits(DEFAULT_RUN_LIMITS, { timeMs: 2 ** 31 })).limit).to.equal("timeMs");
    expect(refusal(() => resolveLimits(DEFAULT_RUN_LIMITS, { maxFrameBytes: 100 })).message).to.match(/^limits\.maxFrameBytes: expected an integer from 1024 to 2147483647 /);
    expect(refusal(() => resolveLimits(DEFAULT_RUN_LIMITS, { maxHostCalls: 0 })).message).to.equal("limits.maxHostCalls: expected a positive integer, got 0");
    expect(refusal(() => resolveLimits(DEFAULT_RUN_LIMITS, { quotaFiles: 1.5 })).message).to.equal("limits.quotaFiles: expected a positive integer, got 1.5");
    expect(resolveLimits(DEFAULT_RUN_LIMITS, { maxLogBytes: Number.MAX_SAFE_INTEGER }).maxLogBytes).to.equal(Number.MAX_SAFE_INTEGER);
  });

  it("a host's limits are checked for any guest, a run's for its program's engine", () => {
    // What a host accepts for wasm guests, a JS program's run refuses (see host.test.ts for Host itself).
    const host = resolveLimits(DEFAULT_RUN_LIMITS, { memoryBytes: 3 * 2 ** 30 });
    expect(resolveLimits(host, {}, "wasm").memoryBytes).to.equal(3 * 2 ** 30);
    expect(refusal(() => resolveLimits(host, {}, "js"))).to.include({ limit: "memoryBytes", engine: "js" });
  });
});
