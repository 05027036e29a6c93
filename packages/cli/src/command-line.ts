import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "./cli-io.js";

type Options = NonNullable<ParseArgsConfig["options"]>;

/**
 * Parses one command's arguments with node:util's parseArgs (strict: unknown options are usage
 * errors) and checks the number of positionals against `positionals` (names; a trailing '?'
 * marks an optional one).
 */
export function parseCommandLine(
  command: string,
  argv: readonly string[],
  positionals: readonly string[],
  options: Options = {},
): { args: Record<string, string>; flags: Record<string, string | boolean | undefined> } {
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true }) as typeof parsed;
  } catch (err) {
    throw new UsageError(`${command}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const required = positionals.filter((p) => !p.endsWith("?")).length;
  const got = parsed.positionals.length;
  if (got < required || got > positionals.length) {
    const shape = positionals.map((p) => (p.endsWith("?") ? `[${p.slice(0, -1)}]` : p)).join(" ") || "no arguments";
    throw new UsageError(`${command} takes ${shape}, got ${got} argument${got === 1 ? "" : "s"}`);
  }
  const args: Record<string, string> = {};
  positionals.forEach((p, i) => {
    if (parsed.positionals[i] !== undefined) args[p.replace("?", "")] = parsed.positionals[i]!;
  });
  return { args, flags: parsed.values };
}

/** A flag's whole number, at least `min`; undefined when the flag is absent. */
export function integerFlag(command: string, flag: unknown, name: string, min: number): number | undefined {
  if (flag === undefined) return undefined;
  const n = Number(flag);
  const expected = min === 1 ? "a positive integer" : `a whole number from ${min}`;
  if (!/^\d+$/.test(String(flag)) || !Number.isSafeInteger(n) || n < min) throw new UsageError(`${command}: ${name} takes ${expected}, got '${String(flag)}'`);
  return n;
}

/** Whether the arguments ask for help (`--help` or `-h` anywhere before a `--`). */
export function wantsHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf("--");
  return (end === -1 ? argv : argv.slice(0, end)).some((a) => a === "--help" || a === "-h");
}
