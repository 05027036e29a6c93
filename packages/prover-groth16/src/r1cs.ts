import { ZkguestError } from "@zkguest/protocol";
import { BN254_SCALAR_FIELD } from "./field.js";

/** What setup and input checks need from an R1CS file's header (iden3's r1cs format, version 1). */
export interface R1csHeader {
  readonly wires: number;
  readonly outputs: number;
  readonly publicInputs: number;
  readonly privateInputs: number;
  readonly labels: number;
  readonly constraints: number;
}

/**
 * Reads the header section of an `.r1cs` file (magic "r1cs", version 1, sections of
 * `type u32, size u64`; the header section, type 1, holds the field and the counts), and checks
 * that its field is BN254's scalar field. Throws ZkguestError malformed_frame naming what is wrong.
 */
export function readR1csHeader(bytes: Uint8Array): R1csHeader {
  const bad = (why: string) => new ZkguestError("malformed_frame", `circuit: the r1cs ${why}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (at: number, n: number) => {
    if (at + n > bytes.length) throw bad(`ends at byte ${bytes.length}, inside its header`);
  };
  need(0, 12);
  if (String.fromCharCode(...bytes.subarray(0, 4)) !== "r1cs") throw bad("has no 'r1cs' magic");
  if (view.getUint32(4, true) !== 1) throw bad(`is version ${view.getUint32(4, true)}, not 1`);
  const sections = view.getUint32(8, true);
  let at = 12;
  for (let i = 0; i < sections; i++) {
    need(at, 12);
    const type = view.getUint32(at, true);
    const size = Number(view.getBigUint64(at + 4, true));
    at += 12;
    if (type === 1) return readHeaderSection(view, at, size, need, bad);
    if (!Number.isSafeInteger(size)) throw bad("has a section too large");
    at += size;
  }
  throw bad("has no header section");
}

function readHeaderSection(view: DataView, at: number, size: number, need: (at: number, n: number) => void, bad: (why: string) => ZkguestError): R1csHeader {
  need(at, size);
  need(at, 4);
  const n8 = view.getUint32(at, true);
  if (n8 !== 32) throw bad(`field elements are ${n8} bytes, not 32 (BN254)`);
  need(at, 4 + 32 + 28);
  let prime = 0n;
  for (let i = 31; i >= 0; i--) prime = (prime << 8n) | BigInt(view.getUint8(at + 4 + i));
  if (prime !== BN254_SCALAR_FIELD) throw bad("is not over BN254's scalar field (circom's default, bn128)");
  const p = at + 36;
  const labels = Number(view.getBigUint64(p + 16, true));
  return {
    wires: view.getUint32(p, true),
    outputs: view.getUint32(p + 4, true),
    publicInputs: view.getUint32(p + 8, true),
    privateInputs: view.getUint32(p + 12, true),
    labels,
    constraints: view.getUint32(p + 24, true),
  };
}
