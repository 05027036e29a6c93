import { decode, DEFAULT_LIMITS, encode, fromHex, fromVectorJson, toHex, toVectorJson, ZkguestError } from "@zkguest/protocol";
import { encodeValue } from "@zkguest/protocol/wire";
import { either as E } from "fp-ts";
import { printJson, printLines, UsageError, type CliIO, type Command } from "../cli-io.js";
import { refuseUnsafeIntegers } from "../json-args.js";
import { readArgOrStdin } from "../read-input.js";

export const protocolUsage = `usage: zkguest protocol decode HEX|-     decode one frame (hex digits, 0x allowed; '-' reads stdin);
                                          prints it as vector JSON (bytes as {"$bin": hex})
       zkguest protocol encode JSON|-    encode one frame given as vector JSON; prints its hex
`;

/**
 * The most text `protocol decode|encode` takes, inline or from stdin: the largest frame
 * (max_frame_bytes) at 4 characters a byte. Hex takes 2; vector JSON spells bytes as hex
 * too, with room for the JSON around them.
 */
const MAX_FRAME_TEXT_BYTES = 4 * DEFAULT_LIMITS.max_frame_bytes;

/** `zkguest protocol`: frames by hand, for anyone debugging a guest or a host of their own. */
export const protocolCommand: Command = async (argv, io) => {
  const [verb, input, ...extra] = argv;
  if (verb !== "decode" && verb !== "encode") throw new UsageError(verb === undefined ? "protocol takes 'decode HEX|-' or 'encode JSON|-'" : `unknown protocol verb '${verb}' (it takes decode or encode)`);
  if (input === undefined || extra.length) throw new UsageError(`protocol ${verb} takes one argument, got ${argv.length - 1}`);
  const text = (await readArgOrStdin(input, io, MAX_FRAME_TEXT_BYTES, () => new ZkguestError("frame_too_large", `protocol ${verb}: the frame's text is more than ${MAX_FRAME_TEXT_BYTES} bytes, 4 characters per byte of the largest frame (max_frame_bytes)`))).toString("utf8").trim();
  return verb === "decode" ? decodeFrame(text, io) : encodeFrame(text, io);
};

function decodeFrame(hex: string, io: CliIO): number {
  let bytes: Uint8Array;
  try {
    // `0x...`, as frames are often written, is the same digits.
    bytes = fromHex(hex.replace(/^0x/i, ""));
  } catch {
    throw new UsageError("decode takes the frame as hex digits");
  }
  const r = decode(bytes);
  if (E.isLeft(r)) throw new ZkguestError(r.left.code, r.left.message);
  printJson(io.stdout, toVectorJson(r.right), 2);
  return 0;
}

function encodeFrame(json: string, io: CliIO): number {
  refuseUnsafeIntegers("protocol encode: the frame", json);
  let value: unknown;
  try {
    value = fromVectorJson(JSON.parse(json));
  } catch (e) {
    throw new UsageError(`encode takes one frame as JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  // encode() trusts its input's type, so the value is first checked as a receiver checks a frame:
  // written as a plain map (a non-Value is a typed error here) and read back by decode().
  const checked = decode(encodeValue(value, "frame"));
  if (E.isLeft(checked)) throw new ZkguestError(checked.left.code, checked.left.message);
  printLines(io.stdout, [toHex(encode(checked.right))]);
  return 0;
}
