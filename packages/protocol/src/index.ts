export * from "./errors.js";
export * from "./values.js";
export { struct, StructType, taggedUnion, type StructOf } from "./struct.js";
export * from "./version.js";
export * from "./limits.js";
export * from "./messages.js";
export { encode, decode, frame, describeValidationError, type ProtocolError, type DecodeOptions } from "./frame.js";
export { readMessagePack, readableId, encodeFrame, encodeUtf8, decodeUtf8, type FloatPath, type ReadResult } from "./wire/index.js";
// Host side only (not in the wire entry guests bundle): bounds checked before reading untrusted files.
export { scanMessagePack, type ScanBounds } from "./wire/scan.js";
export { toHex, fromHex } from "./hex.js";
export { toVectorJson, fromVectorJson, type GoldenVector } from "./vector-json.js";
