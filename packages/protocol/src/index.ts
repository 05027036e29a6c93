export * from "./errors.js";
export * from "./values.js";
export * from "./version.js";
export * from "./limits.js";
export * from "./messages.js";
export { encode, decode, frame, describeValidationError, type ProtocolError, type DecodeOptions } from "./frame.js";
export { scanProfile, isValidUtf8 } from "./profile.js";
export { toHex, fromHex } from "./hex.js";
export { toVectorJson, fromVectorJson } from "./vector-json.js";
