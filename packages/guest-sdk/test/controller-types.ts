// Compiled with the suite (tsc -b): the lines marked @ts-expect-error must fail to type-check,
// and a marker over a line that compiles is itself an error (TS2578), so the build fails if
// defineController stops refusing what the protocol cannot carry; the rest must compile.
import { defineController, type Carriable, type ControllerSpec, type Value } from "../src/index.js";

const spec = <A extends Carriable<A>>(): ControllerSpec<A> => ({ getWitnesses: () => [], entrypoint: () => {} });

// Interfaces (no index signature), with optional fields, arrays, bytes and nesting.
interface Transfer {
  amount: number;
  to: string;
  memo?: string;
  tags: readonly string[];
  parts: { data: Uint8Array; final: boolean | null }[];
}
defineController<Transfer>(spec<Transfer>());
// Types with and without index signatures, Value itself, and top-level non-objects.
defineController<{ numbers: number[] }>(spec());
defineController<{ [key: string]: Value }>(spec());
defineController<Value>(spec());
defineController(spec());
defineController<number[]>(spec());
defineController<string>(spec());
// Inferred from the spec: the arguments' type reaches the entrypoint's result.
defineController({
  getWitnesses: (args: Transfer) => [{ type: "data", data: new Uint8Array([args.amount]) }],
  entrypoint: (result) => void result.args.to.length,
});

interface WithFunction {
  amount: number;
  callback: () => void;
}
// @ts-expect-error a function is not a Value
defineController<WithFunction>(spec<never>());
// @ts-expect-error a property that may hold undefined (rather than be absent) is not carried
defineController<{ amount: number | undefined }>(spec<never>());
// @ts-expect-error a bigint is not a Value
defineController<{ amount: bigint }>(spec<never>());
// @ts-expect-error a symbol is not a Value
defineController<{ id: symbol }>(spec<never>());
const key = Symbol("key");
// @ts-expect-error a symbol key is not carried
defineController<{ [key]: number }>(spec<never>());
// @ts-expect-error a Date is not a Value (send its ISO string or its milliseconds)
defineController<{ at: Date }>(spec<never>());
// @ts-expect-error a Map is not a Value (send an object or an array of pairs)
defineController<{ m: Map<string, number> }>(spec<never>());
// @ts-expect-error only Uint8Array carries bytes
defineController<{ samples: Uint16Array }>(spec<never>());
// @ts-expect-error deep inside too
defineController<{ a: { b: { c: (() => void)[] }[] } }>(spec<never>());
// @ts-expect-error unknown may be anything
defineController<{ x: unknown }>(spec<never>());
// @ts-expect-error undefined is not a Value
defineController<undefined>(spec<never>());
