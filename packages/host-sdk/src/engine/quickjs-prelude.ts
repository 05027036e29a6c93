import { GUEST_EPOCH_MS } from "./engine.js";
import { textCodecs } from "./quickjs-prelude-text.js";

/**
 * What runs in a guest's context before the guest: it makes execution deterministic and gives
 * the guest a console. It is written as a function so that it is type-checked, and sent as its
 * source text: it runs inside QuickJS, never in the host.
 *
 * - Math.random: xoshiro128** seeded by the host, so a run's "random" numbers are reproducible.
 * - Date: a clock that starts at a fixed instant and advances by 1 ms at each reading
 *   (Date.now(), new Date()); local time is UTC (getHours is getUTCHours, getTimezoneOffset is
 *   0, toString shows UTC), so the host's time zone never shows. One gap remains: parsing a
 *   date string without a zone ("2024-01-01T00:00") uses the host's zone; write the zone.
 * - console.log/info/debug/warn/error: text lines the engine returns as output (drainOutput).
 * - TextEncoder, TextDecoder: UTF-8 only (quickjs-prelude-text.ts), compiled when the guest
 *   first reads either: compiling them costs a fresh instance about 0.7 ms, which most guests
 *   would pay for nothing, and even their source as a string literal here costs 0.1 ms, so the
 *   host hands it over on first use (CODECS_GLOBAL). The compiler is the Function constructor
 *   as it was before the guest ran.
 */
function prelude(seed: readonly [number, number, number, number], clockStartMs: number): void {
  const g = globalThis as unknown as Record<string, unknown>;
  const codecsSource = g.__zkguest_text_codecs as () => string;
  delete g.__zkguest_text_codecs;
  const { defineProperty } = Object;
  const compile = Function;
  const names = ["TextEncoder", "TextDecoder"];
  const lazy: Record<string, boolean> = { TextEncoder: true, TextDecoder: true };
  const define = (name: string, value: unknown) => defineProperty(g, name, { value, writable: true, configurable: true, enumerable: false });
  for (const name of names) {
    defineProperty(g, name, {
      configurable: true,
      enumerable: false,
      get() {
        const made = compile(`return (${codecsSource()})();`)() as Record<string, unknown>;
        // A global the guest assigned meanwhile stays the guest's.
        for (const each of names) if (lazy[each]) define(each, made[each]);
        return g[name];
      },
      set(value: unknown) {
        lazy[name] = false;
        define(name, value);
      },
    });
  }
  const print = g.__zkguest_print as (level: number, text: string) => void;
  delete g.__zkguest_print;

  let [a, b, c, d] = seed;
  // xoshiro128**: the result is rotl(b * 5, 7) * 9; then the state steps.
  Math.random = () => {
    const x = Math.imul(b, 5);
    const result = Math.imul((x << 7) | (x >>> 25), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = (d << 11) | (d >>> 21);
    return result / 4294967296;
  };

  const RealDate = Date;
  const proto = RealDate.prototype as unknown as Record<string, unknown>;
  let clock = clockStartMs;
  function FixedDate(this: unknown, ...args: unknown[]): unknown {
    if (!new.target) return new RealDate(clock++).toUTCString();
    return Reflect.construct(RealDate, args.length === 0 ? [clock++] : args.length === 1 ? args : [RealDate.UTC(...(args as [number]))], new.target);
  }
  FixedDate.prototype = proto;
  FixedDate.now = () => clock++;
  FixedDate.parse = RealDate.parse;
  FixedDate.UTC = RealDate.UTC;
  proto.constructor = FixedDate;
  for (const part of ["FullYear", "Month", "Date", "Day", "Hours", "Minutes", "Seconds", "Milliseconds"]) {
    proto[`get${part}`] = proto[`getUTC${part}`];
    proto[`set${part}`] = proto[`setUTC${part}`];
  }
  proto.getTimezoneOffset = () => 0;
  for (const name of ["toString", "toDateString", "toTimeString", "toLocaleString", "toLocaleDateString", "toLocaleTimeString"]) proto[name] = proto.toUTCString;
  g.Date = FixedDate;

  const show = (x: unknown) => {
    try {
      return typeof x === "string" ? x : (JSON.stringify(x) ?? String(x));
    } catch {
      return String(x);
    }
  };
  const line = (level: number) => (...args: unknown[]) => print(level, args.map(show).join(" "));
  g.console = { log: line(0), info: line(0), debug: line(0), warn: line(1), error: line(1) };
}

/** The fixed instant the guest's clock starts from: the guests' epoch, 2024-01-01T00:00:00Z. */
export const DEFAULT_CLOCK_START_MS = GUEST_EPOCH_MS;

/** The global function the prelude takes its output channel from (and deletes). */
export const PRINT_GLOBAL = "__zkguest_print";

/** The global function the prelude takes the text codecs' source from (and deletes). */
export const CODECS_GLOBAL = "__zkguest_text_codecs";

/** The source of a function that makes TextEncoder and TextDecoder (quickjs-prelude-text.ts). */
export const TEXT_CODECS_SOURCE = textCodecs.toString();

/** Source of the prelude, to evaluate as a global script in a fresh context. */
export function preludeSource(seed: readonly [number, number, number, number], clockStartMs: number): string {
  return `(${prelude.toString()})(${JSON.stringify(seed)}, ${clockStartMs});`;
}
