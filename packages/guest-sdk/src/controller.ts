import type { ErrorCode, LogEntry, Value, Witness } from "@zkguest/protocol/core";

/** The values the protocol carries that hold no other: what Value is made of besides arrays and maps. */
type Leaf = Exclude<Value, Value[] | { [key: string]: Value }>;

/**
 * Each part of `T` as the protocol can carry it (as a Value): `T` is assignable to it exactly
 * when every part of it is a Value. Unlike `T extends Value`, it takes interfaces, which have no
 * index signature (`interface Args { amount: number }`); like it, it refuses functions,
 * undefined (an optional property may be absent, but not hold undefined), symbols, bigints,
 * class instances such as Date or Map, and symbol keys.
 */
type CarriableParts<T> = T extends Value
  ? T
  : T extends ((...args: never[]) => unknown) | symbol | bigint | undefined
    ? never
    : T extends object
      ? { [K in keyof T]: K extends symbol ? never : CarriableParts<T[K]> }
      : never;

/**
 * The constraint on a controller's arguments, as `A extends Carriable<A>` (see CarriableParts;
 * a mapped type, since TypeScript refuses a conditional type of A as A's own constraint).
 */
export type Carriable<T> = { [K in keyof T]: T extends Leaf ? T[K] : K extends symbol ? never : CarriableParts<T[K]> } & (object | null | boolean | number | string);

/** What the entrypoint receives when proving has ended (the body of `proof.result`, SPEC.md §5.1). */
export interface ProofResult<A extends Carriable<A> = Value> {
  /** Whether proving succeeded. */
  readonly success: boolean;
  /** The proof, in the prover's format: present if and only if `success`. */
  readonly proof?: Uint8Array;
  /** The arguments the witness step received, unchanged. */
  readonly args: A;
  /** The logs of the witness step: the guest's own and what the host recorded. */
  readonly logs: readonly LogEntry[];
  /** Why proving failed: present if and only if not `success`. */
  readonly error?: { readonly code: ErrorCode; readonly message: string };
  /**
   * Which step failed, when `success` is false: `"witness"` (the witness step, so there were no
   * witnesses to prove) or `"prove"` (the prover). Absent from hosts that do not send it (it is
   * optional in protocol 1.1): then only `error` says.
   */
  readonly stage?: "witness" | "prove";
}

/** The two entry points of a controller. Either may be async. */
export interface ControllerSpec<A extends Carriable<A> = Value> {
  /**
   * Computes the witnesses for the circuit from the request's arguments and hands them to the
   * host with `ready(witnesses)`, or by returning them.
   */
  getWitnesses(args: A): readonly Witness[] | void | Promise<readonly Witness[] | void>;
  /** Called when proving has ended, successfully or not; typically stores the proof with `fs.store`. */
  entrypoint(result: ProofResult<A>): void | Promise<void>;
}

/** A controller: what a controller module exports as its default. */
export type Controller<A extends Carriable<A> = Value> = Readonly<ControllerSpec<A>>;

/**
 * Defines a controller; make it the default export of the controller module:
 *
 * ```ts
 * export default defineController({
 *   getWitnesses(args) { return [{ type: "data", data: encodeUtf8(JSON.stringify(args)) }]; },
 *   entrypoint(result) { if (result.proof) fs.store("/var/share/proof.bin", result.proof); },
 * });
 * ```
 *
 * `A` types the arguments: a type or an interface of Values (see Carriable). They are not
 * checked at run time (they are whatever Value the host sent).
 */
export function defineController<A extends Carriable<A> = Value>(spec: ControllerSpec<A>): Controller<A> {
  for (const name of ["getWitnesses", "entrypoint"] as const) {
    if (typeof spec?.[name] !== "function") throw new TypeError(`defineController: ${name} must be a function`);
  }
  return Object.freeze({ getWitnesses: spec.getWitnesses, entrypoint: spec.entrypoint });
}
