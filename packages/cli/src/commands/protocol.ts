import { decode, encode, fromHex, fromVectorJson, toHex, toVectorJson, ZkguestError, type Message } from "@zkguest/protocol";
import { either as E } from "fp-ts";
import { printJson, UsageError, type CliIO, type Command } from "../cli-io.js";
import { readArgOrStdin } from "../read-input.js";

export const protocolUsage = `usage: zkguest protocol decode HEX|-     decode one frame (hex digits, 0x allowed; '-' reads stdin);
                                          prints it as vector JSON (bytes as {"$bin": hex})
       zkguest protocol encode JSON|-    encode one frame given as vector JSON; prints its hex
`;

/** `zkguest protocol`: frames by hand, for anyone debugging a guest or a host of their own. */
export const protocolCommand: Command = async (argv, io) => {
  const [verb, input, ...extra] = argv;
  if (verb !== "decode" && verb !== "encode") throw new UsageError(verb === undefined ? "protocol takes 'decode HEX|-' or 'encode JSON|-'" : `unknown protocol verb '${verb}' (it takes decode or encode)`);
  if (input === undefined || extra.length) throw new UsageError(`protocol ${verb} takes one argument, got ${argv.length - 1}`);
  const text = (await readArgOrStdin(input, io)).toString("utf8").trim();
  return verb === "decode" ? decodeFrame(text, io) : encodeFrame(text, io);
};

function decodeFrame(hex: string, io: CliIO): number {
  let bytes: Uint8Array;
  try {
    bytes = fromHex(hex);
  } catch {
    throw new UsageError("decode takes the frame as hex digits");
  }
  const r = decode(bytes);
  if (E.isLeft(r)) throw new ZkguestError(r.left.code, r.left.message);
  printJson(io.stdout, toVectorJson(r.right), 2);
  return 0;
}

function encodeFrame(json: string, io: CliIO): number {
  let value: unknown;
  try {
    value = fromVectorJson(JSON.parse(json));
  } catch (e) {
    throw new UsageError(`encode takes one frame as JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  // encode() trusts its input's type: check the result as a receiver would.
  const bytes = encode(value as Message);
  const back = decode(bytes);
  if (E.isLeft(back)) throw new ZkguestError(back.left.code, back.left.message);
  io.stdout.write(toHex(bytes) + "\n");
  return 0;
}
