import { expect } from "chai";
import { decode, encode, frame, type Message, type Stat, type Value } from "@zkguest/protocol";
import type { GuestInstance, HostCallHandler, LoadedGuest } from "../src/engine/engine.js";
import { WasmEngine } from "../src/engine/wasm.js";
import { QuickJsEngine } from "../src/engine/quickjs.js";
import { HOST_KIT_ARGS, hostKitResults } from "../src/conformance/host-kit.js";
import { runGuestKit } from "../src/conformance/guest-kit.js";
import { runOnSessionHost, type SessionHostOptions } from "../src/conformance/session-host.js";
import type { CheckResult } from "../src/conformance/results.js";
import { failures, JS_CONFORMANCE_CONTROLLER, referenceGuestWasm, rewritingFrames } from "./conformance-fixtures.js";
import { requireClang } from "./host-fixtures.js";
import { bundleController } from "./quickjs-helpers.js";

/*
 * The kits' power: deliberate defects (mutants) of a host and of a guest, each of which its
 * kit must catch (fail at least one named check, the rest of the run still ending cleanly with
 * the summary row). README "Conformance" reports the score. A mutant is a wrapper around the
 * reference implementation that breaks exactly one rule.
 */

/** Rewrites the host's ok answers to the requests of `kinds` with `change`. */
function rewritingOk(kinds: readonly string[], change: (value: Value) => Value): (h: HostCallHandler) => HostCallHandler {
  return (handler) => (request) => {
    const response = handler(request);
    const asked = decode(request);
    const answer = decode(response);
    if (asked._tag === "Left" || answer._tag === "Left" || answer.right.kind !== "ok" || !kinds.includes(asked.right.kind)) return response;
    return encode(frame("ok", answer.right.id, { value: change(answer.right.body.value) }, answer.right.v));
  };
}

const mapStats = (value: Value, f: (s: Stat) => Stat): Value =>
  Array.isArray(value) ? value.map((s) => f(s as Stat) as Value) : value !== null && typeof value === "object" && "modified" in value ? (f(value as Stat) as Value) : value;

/** The canonical frame with its id written as a uint32: valid, not canonical. */
function widenId(bytes: Uint8Array): Uint8Array {
  const at = Buffer.from(bytes).indexOf(Buffer.from([0xa2, 0x69, 0x64])) + 3;
  const b = bytes[at]!;
  const width = b < 0x80 ? 0 : b === 0xcc ? 1 : b === 0xcd ? 2 : 4;
  const id = width === 0 ? b : Buffer.from(bytes).readUIntBE(at + 1, width);
  const wide = Buffer.alloc(5);
  wide[0] = 0xce;
  wide.writeUInt32BE(id, 1);
  return Buffer.concat([bytes.subarray(0, at), wide, bytes.subarray(at + 1 + width)]);
}

/** A host that keeps one instance for both phases (SPEC.md §2 allows it): the second hello never reaches the guest. */
function oneInstance(guest: LoadedGuest): LoadedGuest {
  let live: GuestInstance | undefined;
  let phases = 0;
  return {
    engine: guest.engine,
    get retainedBytes() {
      return guest.retainedBytes;
    },
    dispose: () => guest.dispose(),
    instantiate: (host, limits) => {
      const first = live === undefined;
      live ??= guest.instantiate((bytes) => handlers.current(bytes), limits);
      handlers.current = host;
      const instance = live;
      phases++;
      return {
        handle: (bytes) => {
          const m = decode(bytes);
          if (!first && m._tag === "Right" && m.right.kind === "hello") return encode(frame("ok", m.right.id, { value: { guest: "kept", version: [1, 1] } }, [1, 1]));
          return instance.handle(bytes);
        },
        memoryUsed: () => instance.memoryUsed(),
        drainOutput: () => instance.drainOutput(),
        dispose: () => (phases >= 2 ? instance.dispose() : undefined),
      };
    },
  };
}
const handlers: { current: HostCallHandler } = { current: () => new Uint8Array() };

interface HostMutant {
  readonly name: string;
  readonly options: SessionHostOptions;
  /** Checks at least one of which must fail. */
  readonly caughtBy: readonly string[];
}

const HOST_MUTANTS: readonly HostMutant[] = [
  {
    name: "a root that holds only 500 entries",
    options: {
      wrap: (handler) => (request) => {
        const m = decode(request);
        if (m._tag === "Right" && m.right.kind === "fs.store" && /^\/ZKC(\d{4})$/.test(m.right.body.path) && Number(m.right.body.path.slice(4)) >= 499) {
          return encode(frame("error", m.right.id, { code: "directory_full", message: "the root is full" }, m.right.v));
        }
        return handler(request);
      },
    },
    caughtBy: ["directory_full: the root's 512 entries"],
  },
  {
    name: "modified with odd seconds",
    options: { wrap: rewritingOk(["fs.store", "fs.stat", "fs.list"], (v) => mapStats(v, (s) => ({ ...s, modified: s.modified.replace(/0$/, "1") }))) },
    caughtBy: ["fs.store create", "fs.stat"],
  },
  {
    name: "fs.list sorted by name instead of directory order",
    options: { wrap: rewritingOk(["fs.list"], (v) => (Array.isArray(v) ? [...(v as Stat[])].sort((a, b) => (a.name < b.name ? -1 : 1)) : v)) },
    caughtBy: ["fs.list: directory order, and pages"],
  },
  {
    name: "fs.list that ignores offset and length",
    options: {
      wrap: (handler) => (request) => {
        const m = decode(request);
        if (m._tag === "Right" && m.right.kind === "fs.list") return handler(encode({ ...m.right, body: { path: m.right.body.path } } as Message));
        return handler(request);
      },
    },
    caughtBy: ["fs.list: directory order, and pages"],
  },
  {
    name: "fs.list that includes . and ..",
    options: { wrap: rewritingOk(["fs.list"], (v) => (Array.isArray(v) ? [{ modified: "1980-01-01T00:00:00", name: ".", size: 0, type: "dir" }, { modified: "1980-01-01T00:00:00", name: "..", size: 0, type: "dir" }, ...v] : v)) },
    caughtBy: ["fs.list"],
  },
  {
    name: "non-canonical frames (ids in a larger encoding)",
    options: { wrap: (handler) => (request) => widenId(handler(request)) },
    caughtBy: ["host frames are canonical (witness step)", "host frames are canonical (entrypoint)"],
  },
  {
    name: "proof.result logs in reverse order",
    options: { proofLogs: (logs) => [...logs].reverse() },
    caughtBy: ["proof.result logs: in the order they were logged"],
  },
  {
    name: "the host's clock instead of the guests' epoch",
    options: { wrap: rewritingOk(["fs.store", "fs.stat", "fs.list"], (v) => mapStats(v, (s) => (s.modified === "2024-01-01T00:00:00" ? { ...s, modified: "2026-03-14T15:09:26" } : s))) },
    caughtBy: ["fs.store create", "fs.stat"],
  },
];

interface GuestMutant {
  readonly name: string;
  /** The guest's answers to host requests, rewritten. */
  readonly answer: (response: Uint8Array) => Uint8Array;
  readonly caughtBy: RegExp;
}

const GUEST_MUTANTS: readonly GuestMutant[] = [
  {
    name: "answers every refused frame with id 0",
    answer: (r) => {
      const m = decode(r);
      return m._tag === "Right" && m.right.kind === "error" ? encode({ ...m.right, id: 0 }) : r;
    },
    caughtBy: /^invalid frame: /,
  },
  {
    name: "writes its answers non-canonically",
    answer: widenId,
    caughtBy: /^(hello offering 1\.0|witness step)$/,
  },
  {
    name: "refuses everything with internal, whatever the cause",
    answer: rewritingAnswer((m) => (m.kind === "error" && m.body.code !== "internal" ? frame("error", m.id, { code: "internal", message: m.body.message }, m.v) : undefined)),
    caughtBy: /^invalid frame: /,
  },
  {
    name: "answers ok nil to a frame it should refuse",
    answer: rewritingAnswer((m) => (m.kind === "error" ? frame("ok", m.id, { value: null }, m.v) : undefined)),
    caughtBy: /^invalid frame: /,
  },
  {
    name: "chooses 1.0 whatever the host offers",
    answer: rewritingAnswer((m) => {
      const value = m.kind === "ok" ? m.body.value : null;
      return value !== null && typeof value === "object" && !Array.isArray(value) && !(value instanceof Uint8Array) && "version" in value ? frame("ok", m.id, { value: { ...value, version: [1, 0] } }, m.v) : undefined;
    }),
    caughtBy: /^hello offering 1\.9 and 2\.0$/,
  },
];

/** The guest's answers as `change` rewrites them (undefined: as they were). */
function rewritingAnswer(change: (answer: Message) => Message | undefined): (response: Uint8Array) => Uint8Array {
  return (response) => {
    const answer = decode(response);
    const changed = answer._tag === "Right" ? change(answer.right) : undefined;
    return changed === undefined ? response : encode(changed);
  };
}

const failed = (results: readonly CheckResult[]) => results.filter((r) => r.result === "fail").map((r) => r.check);

describe("conformance: the kits catch every documented mutant", function () {
  this.timeout(120_000);
  let reference: LoadedGuest;

  before(function () {
    requireClang(this);
    reference = new WasmEngine().load(referenceGuestWasm());
  });

  describe("host mutants (the host kit)", () => {
    for (const mutant of HOST_MUTANTS) {
      it(mutant.name, () => {
        const results = hostKitResults(runOnSessionHost(reference, HOST_KIT_ARGS, mutant.options));
        expect(failed(results).filter((c) => mutant.caughtBy.includes(c)), failures(results).join("\n")).to.not.be.empty;
        // The run still ends cleanly: the guest got to its summary, whatever the host did.
        expect(results.at(-1)).to.deep.include({ check: "the reference guest ran to the end", result: "pass" });
      });
    }

    it("a host that runs both phases in one instance is not double-counted", () => {
      const results = hostKitResults(runOnSessionHost(oneInstance(reference), HOST_KIT_ARGS));
      expect(failures(results)).to.deep.equal([]);
      expect(results.at(-1)!.detail).to.match(/^summary: \d+ passed, 0 failed, 0 skipped$/);
    });

    it("under max_frame_bytes 4096 the cleanup pages and nothing is left behind", () => {
      const results = hostKitResults(runOnSessionHost(reference, HOST_KIT_ARGS, { limits: { maxFrameBytes: 4096 } }));
      expect(failures(results)).to.deep.equal([]);
      expect(results.find((r) => r.check === "directory_full: the root's 512 entries")).to.deep.include({ result: "pass" });
    });
  });

  describe("guest mutants (the guest kit)", () => {
    let js: LoadedGuest;
    before(async () => {
      js = (await QuickJsEngine.create()).load(await bundleController(JS_CONFORMANCE_CONTROLLER));
    });

    for (const mutant of GUEST_MUTANTS) {
      it(mutant.name, () => {
        const results = runGuestKit(rewritingFrames(js, { out: mutant.answer }));
        expect(failed(results).some((c) => mutant.caughtBy.test(c)), failures(results).join("\n")).to.equal(true);
      });
    }
  });
});
