import { decode, encode, frame, toHex, toVectorJson } from "@zkguest/protocol";
import type { Command } from "../cli-io.js";

/**
 * `zkguest demo`, provisional: a protocol round trip (the frame a guest sends to store its proof,
 * and the typed error a bad name gets). It becomes the full guest run once the sandbox lands.
 */
export const demoCommand: Command = async (_argv, io) => {
  const request = frame("fs.store", 1, { path: "/var/share/proof.bin", data: new Uint8Array([0xde, 0xad, 0xbe, 0xef]), mode: "overwrite" });
  const bytes = encode(request);
  io.stdout.write(`guest -> host, ${bytes.length} bytes: ${toHex(bytes)}\n`);
  io.stdout.write(`decoded: ${JSON.stringify(toVectorJson(decode(bytes)))}\n`);
  const bad = encode({ ...request, v: [2, 0] } as typeof request);
  io.stdout.write(`a frame of version 2.0 decodes to: ${JSON.stringify(decode(bad))}\n`);
  return 0;
};
