import { expect } from "chai";
import { encode, frame, type Value } from "@zkguest/protocol";
import { GuestFailure, type EngineLimits, type LimitName } from "../src/engine/engine.js";

/** Limits small enough to keep hostile tests fast. */
export const TEST_LIMITS: EngineLimits = {
  memoryBytes: 4 * 65536,
  stackBytes: 512 * 1024,
  timeMs: 2_000,
  maxFrameBytes: 64 * 1024,
};

/** A host handler that answers every request `ok nil` and counts the calls. */
export function okHost(): { handler: (request: Uint8Array) => Uint8Array; calls: number } {
  const host = {
    calls: 0,
    handler: (_request: Uint8Array) => {
      host.calls++;
      return encode(frame("ok", 1, { value: null }));
    },
  };
  return host;
}

/** Runs `fn`, expects a GuestFailure with that code (and limit), and returns it. */
export function expectFailure(fn: () => unknown, code: "guest_error" | "limit_exceeded", limit?: LimitName): GuestFailure {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, "expected a GuestFailure").to.be.instanceOf(GuestFailure);
  const failure = thrown as GuestFailure;
  expect({ code: failure.code, limit: failure.limit }, failure.message).to.deep.equal({ code, limit });
  return failure;
}

/**
 * The canonical MessagePack bytes of a Value: cut out of an `ok` frame, whose envelope around
 * the value has a fixed size (`{"body":{"value":` before, `"id":0,"kind":"ok","v":[1,0]}` after).
 */
export function encodeValue(value: Value): Uint8Array {
  const bytes = encode(frame("ok", 0, { value }));
  return bytes.subarray(13, bytes.length - 17);
}

/** An arbitrary host request frame, for guests that do not read it. */
export const ANY_REQUEST = encode(frame("witness.get", 1, { args: null }));
