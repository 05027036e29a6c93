import { CircomRunner, bindings } from "circom2";
import fs from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { CIRCUIT_FORMAT, decodeCircuit, encodeCircuit, type CheckedCircuit, type Signal } from "./circuit.js";
import { readR1csHeader } from "./r1cs.js";

const require = createRequire(import.meta.url);

/** A circuit that does not compile; `problems` are one line each, `file:line:column: error[...]: text` where circom gives a place. */
export class CircuitBuildError extends Error {
  override readonly name = "CircuitBuildError";
  constructor(readonly problems: readonly string[]) {
    super(problems.join("; "));
  }
}

export interface CompileOptions {
  /** Directories searched for `include`s after the including file's own directory (circom's `-l`), before the default ones. */
  readonly libraries?: readonly string[];
}

export interface CompiledCircuit {
  /** The artifact's `circuit` bytes. */
  readonly bytes: Uint8Array;
  readonly circuit: CheckedCircuit;
}

/**
 * Compiles a circom circuit with circom2 (circom built to WebAssembly, run in-process under
 * WASI: nothing is downloaded or spawned) into the circuit a program carries: its r1cs, its
 * witness generator and its main component's input and output signals.
 *
 * Includes resolve as with `circom -l`: relative to the including file, then each of
 * `libraries`, then every `node_modules` directory from the circuit's directory up (so
 * `include "circomlib/circuits/poseidon.circom"` finds an installed circomlib), then the
 * circomlib this package depends on.
 */
export async function compileCircuit(file: string, options: CompileOptions = {}): Promise<CompiledCircuit> {
  const main = path.resolve(file);
  if (!fs.existsSync(main) || !fs.statSync(main).isFile()) throw new CircuitBuildError([`${file}: no such file`]);
  const out = fs.mkdtempSync(path.join(tmpdir(), "zkguest-circom-"));
  try {
    const libraries = [...(options.libraries ?? []).map((l) => path.resolve(l)), ...nodeModulesUp(path.dirname(main)), bundledLibraries()];
    const args = [main, "--r1cs", "--wasm", "--sym", "-o", out, ...[...new Set(libraries)].flatMap((l) => ["-l", l])];
    const output = await runCircom(args);
    const base = path.basename(main, path.extname(main));
    const r1csFile = path.join(out, `${base}.r1cs`);
    if (output.exitCode !== 0 || !fs.existsSync(r1csFile)) throw new CircuitBuildError(problemsOf(output.text, output.exitCode));
    const r1cs = fs.readFileSync(r1csFile);
    const { inputs, outputs } = signalsOf(fs.readFileSync(path.join(out, `${base}.sym`), "utf8"), readR1csHeader(r1cs));
    const bytes = encodeCircuit({
      format: CIRCUIT_FORMAT,
      compiler: `circom2 ${(require("circom2/package.json") as { version: string }).version}`,
      main: path.basename(main),
      inputs,
      outputs,
      r1cs: new Uint8Array(r1cs),
      wasm: new Uint8Array(fs.readFileSync(path.join(out, `${base}_js`, `${base}.wasm`))),
    });
    return { bytes, circuit: decodeCircuit(bytes) };
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

/** Runs circom2 with `args`; what it printed (stdout and stderr, colours removed) and its exit code. */
async function runCircom(args: string[]): Promise<{ text: string; exitCode: number }> {
  let text = "";
  const decoder = new TextDecoder();
  // circom writes to fds 1 and 2 through the WASI shim's fs binding: keep that, pass the rest through.
  const captured = {
    ...fs,
    writeSync(fd: number, data: Uint8Array, offset = 0, length = data.length - offset, position?: number | null): number {
      if (fd === 1 || fd === 2) {
        text += decoder.decode(data.subarray(offset, offset + length));
        return length;
      }
      return fs.writeSync(fd, data, offset, length, position);
    },
  };
  let exitCode = 0;
  const runner = new CircomRunner({
    args,
    env: {},
    preopens: { "/": "/" },
    bindings: {
      ...bindings,
      fs: captured,
      exit(code: number) {
        exitCode = code;
        throw new CircomExit(code);
      },
    },
  });
  try {
    await runner.execute(fs.readFileSync(require.resolve("circom2/circom.wasm")));
  } catch (e) {
    if (!(e instanceof CircomExit)) throw e;
  }
  // eslint-disable-next-line no-control-regex
  return { text: text.replace(/\x1b\[[0-9;]*m/g, ""), exitCode };
}

class CircomExit extends Error {
  constructor(readonly code: number) {
    super(`circom exited with ${code}`);
  }
}

/** circom's errors as one line each: `file:line:column: error[P1012]: message`, or the message with its note. */
function problemsOf(text: string, exitCode: number): string[] {
  const lines = text.split("\n");
  const problems: string[] = [];
  lines.forEach((line, i) => {
    const head = /^(error\[\w+\]):\s*(.*)$/.exec(line.trim());
    if (!head) return;
    const next = lines.slice(i + 1, i + 3).join("\n");
    const place = /┌─\s*"?([^"\n]+?)"?:(\d+):(\d+)/.exec(next);
    const note = /^\s*=\s*(.*)$/m.exec(next)?.[1];
    const where = place ? `${path.relative(process.cwd(), place[1]!) || place[1]}:${place[2]}:${place[3]}: ` : "";
    problems.push(`${where}${head[1]}: ${head[2]!.trim()}${note ? ` (${note.trim()})` : ""}`);
  });
  if (problems.length === 0) problems.push(`circom failed (exit code ${exitCode}): ${text.trim().split("\n").slice(-3).join(" ") || "no output"}`);
  return problems;
}

/** `node_modules` directories from `dir` up to the root, nearest first. */
function nodeModulesUp(dir: string): string[] {
  const found: string[] = [];
  for (let d = dir; ; d = path.dirname(d)) {
    const candidate = path.join(d, "node_modules");
    if (fs.existsSync(candidate)) found.push(candidate);
    if (path.dirname(d) === d) return found;
  }
}

/** The directory holding the circomlib this package depends on, so `include "circomlib/..."` works anywhere. */
function bundledLibraries(): string {
  return path.dirname(path.dirname(require.resolve("circomlib/package.json")));
}

/**
 * The main component's outputs and inputs, from the symbol file (`label,witness,component,name`
 * lines): circom numbers the main component's signals first, outputs, then public inputs, then
 * private inputs, with as many scalars of each as the r1cs header counts. Array signals are
 * listed element by element in row-major order; their dimensions are read from the indexes.
 */
function signalsOf(sym: string, header: { outputs: number; publicInputs: number; privateInputs: number }): { inputs: Signal[]; outputs: Signal[] } {
  const total = header.outputs + header.publicInputs + header.privateInputs;
  const byLabel = new Map<number, string>();
  for (const line of sym.split("\n")) {
    const [label, , , name] = line.split(",");
    const n = Number(label);
    if (name !== undefined && n >= 1 && n <= total) byLabel.set(n, name.trim());
  }
  const scalars = Array.from({ length: total }, (_, i) => {
    const name = byLabel.get(i + 1);
    if (name === undefined || !name.startsWith("main.")) throw new CircuitBuildError([`circom's symbol file has no main signal at label ${i + 1}`]);
    return name.slice("main.".length);
  });
  const group = (from: number, count: number, isPublic: boolean | undefined): Signal[] => {
    const signals: { name: string; indexes: number[][] }[] = [];
    for (const scalar of scalars.slice(from, from + count)) {
      const m = /^([^[]+)((?:\[\d+\])*)$/.exec(scalar)!;
      const indexes = [...m[2]!.matchAll(/\[(\d+)\]/g)].map((x) => Number(x[1]));
      const last = signals[signals.length - 1];
      if (last?.name === m[1]) last.indexes.push(indexes);
      else signals.push({ name: m[1]!, indexes: [indexes] });
    }
    return signals.map(({ name, indexes }) => {
      const dims = indexes[0]!.map((_, d) => Math.max(...indexes.map((ix) => ix[d]!)) + 1);
      return { name, dims, ...(isPublic === undefined ? {} : { public: isPublic }) };
    });
  };
  return {
    outputs: group(0, header.outputs, undefined),
    inputs: [...group(header.outputs, header.publicInputs, true), ...group(header.outputs + header.publicInputs, header.privateInputs, false)],
  };
}
