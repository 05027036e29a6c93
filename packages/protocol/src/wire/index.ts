/**
 * `@zkguest/protocol/wire`: the MessagePack profile of SPEC.md §3, with no dependencies, so it
 * also runs inside the sandbox (QuickJS has no TextEncoder, and a guest bundle must stay small).
 * The writer produces the canonical encoding; the reader enforces every rule of §3.3 in one
 * pass. The host side's `encode`/`decode` (in the main entry) are built on these, adding the
 * io-ts validation of each kind's body.
 */
export { readMessagePack, type FloatPath, type ReadResult } from "./reader.js";
export { array, bin, bool, encodeFrame, encodeValue, frameStart, int, map, name, nil, str, value, writeFrame, writeFrameEndingIn } from "./writer.js";
export { decodeUtf8, encodeUtf8, readUtf8, utf8Length, writeUtf8 } from "./utf8.js";
export {
  CIRCUIT_INPUT_FORMAT,
  MAX_SIGNAL_DIGITS,
  MAX_SIGNAL_DIMENSIONS,
  decodeCircuitInput,
  encodeCircuitInput,
  isCircuitInput,
  normalizeSignals,
  type SignalInput,
  type SignalValue,
} from "./circuit-input.js";
export { readableId } from "./frame-id.js";
