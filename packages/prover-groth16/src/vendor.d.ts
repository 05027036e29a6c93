// Types for the parts of snarkjs and circom2 this package calls (neither ships its own).

declare module "snarkjs" {
  /** snarkjs reads and writes either a file name or an in-memory file. */
  export type FileRef = string | { type: "mem"; data?: Uint8Array };
  export interface Groth16Proof {
    pi_a: [string, string, string];
    pi_b: [[string, string], [string, string], [string, string]];
    pi_c: [string, string, string];
    protocol: "groth16";
    curve: "bn128";
  }
  export interface Logger {
    debug(msg: string): void;
    info(msg: string): void;
    warn(msg: string): void;
    error(msg: string): void;
  }
  export const groth16: {
    prove(zkey: FileRef, witness: FileRef, logger?: Logger): Promise<{ proof: Groth16Proof; publicSignals: string[] }>;
    fullProve(input: unknown, wasm: FileRef | Uint8Array, zkey: FileRef, logger?: Logger): Promise<{ proof: Groth16Proof; publicSignals: string[] }>;
    verify(vk: unknown, publicSignals: readonly string[], proof: Groth16Proof, logger?: Logger): Promise<boolean>;
    exportSolidityCallData(proof: Groth16Proof, publicSignals: readonly string[]): Promise<string>;
  };
  export const wtns: {
    calculate(input: unknown, wasm: FileRef | Uint8Array, wtns: FileRef, options?: unknown): Promise<void>;
    exportJson(wtns: FileRef): Promise<bigint[]>;
  };
  export const powersOfTau: {
    newAccumulator(curve: unknown, power: number, ptau: FileRef, logger?: Logger): Promise<unknown>;
    contribute(oldPtau: FileRef, newPtau: FileRef, name: string, entropy: string, logger?: Logger): Promise<unknown>;
    preparePhase2(oldPtau: FileRef, newPtau: FileRef, logger?: Logger): Promise<void>;
  };
  export const zKey: {
    newZKey(r1cs: FileRef, ptau: FileRef, zkey: FileRef, logger?: Logger): Promise<unknown>;
    contribute(oldZkey: FileRef, newZkey: FileRef, name: string, entropy: string, logger?: Logger): Promise<unknown>;
    exportVerificationKey(zkey: FileRef, logger?: Logger): Promise<Record<string, unknown>>;
    exportSolidityVerifier(zkey: FileRef, templates: { groth16: string }, logger?: Logger): Promise<string>;
  };
}

declare module "ffjavascript" {
  export function buildBn128(singleThread?: boolean): Promise<{ terminate(): Promise<void> }>;
}

declare module "circom2" {
  export class CircomRunner {
    constructor(options: { args: string[]; env: Record<string, string>; preopens: Record<string, string>; bindings: Record<string, unknown> });
    execute(wasm: Uint8Array): Promise<unknown>;
  }
  export const bindings: Record<string, unknown>;
}
