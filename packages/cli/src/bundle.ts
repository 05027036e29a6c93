import { GUEST_BUNDLE_OPTIONS, guestEntrySource } from "@zkguest/guest-sdk/bundle";
import * as esbuild from "esbuild";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** A controller bundled with the guest SDK: one script for the QuickJS engine (SPEC.md §11). */
export interface GuestBundle {
  readonly code: Uint8Array;
  /** The SDK bundled in, `name@version`, for the artifact's manifest. */
  readonly sdk: string;
}

/** The controller does not compile; `problems` are one line each, `file:line:column: text`. */
export class BuildError extends Error {
  override readonly name = "BuildError";
  constructor(readonly problems: readonly string[]) {
    super(problems.join("; "));
  }
}

const SDK = "@zkguest/guest-sdk";

/**
 * Bundles a controller module (TypeScript or JavaScript, default export made by
 * defineController) with the guest SDK into one minified ES module. Types are stripped, not
 * checked (run `tsc` for that). Throws BuildError on syntax errors and unresolved imports.
 */
export async function bundleController(controllerFile: string): Promise<GuestBundle> {
  const file = path.resolve(controllerFile);
  const sdkUsed = new Set<string>();
  let result: esbuild.BuildResult<{ write: false }>;
  try {
    result = await esbuild.build({
      ...GUEST_BUNDLE_OPTIONS,
      mainFields: [...GUEST_BUNDLE_OPTIONS.mainFields],
      stdin: { contents: guestEntrySource(`./${path.basename(file)}`), resolveDir: path.dirname(file), sourcefile: "<entry>", loader: "js" },
      write: false,
      logLevel: "silent",
      plugins: [sdkFallback(sdkUsed)],
    });
  } catch (err) {
    const errors = (err as { errors?: esbuild.Message[] }).errors;
    if (!errors) throw err;
    throw new BuildError(errors.map((m) => describeProblem(m, path.basename(file))));
  }
  const out = result.outputFiles[0];
  if (!out) throw new BuildError([`${controllerFile}: esbuild produced no output`]);
  return { code: out.contents, sdk: [...sdkUsed].map(packageNameAndVersion).join(", ") || SDK };
}

/**
 * Resolves `@zkguest/guest-sdk` as usual (the project's own copy, from its node_modules) and,
 * when the project has none, falls back to the copy this CLI depends on, so a lone controller
 * file builds anywhere. Records which copy was used.
 */
function sdkFallback(used: Set<string>): esbuild.Plugin {
  return {
    name: "zkguest-sdk-fallback",
    setup(build) {
      build.onResolve({ filter: /^@zkguest\/guest-sdk$/ }, async (args) => {
        if ((args.pluginData as { inner?: boolean } | undefined)?.inner) return undefined;
        const own = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: { inner: true } });
        const resolved = own.errors.length === 0 ? own.path : fileURLToPath(import.meta.resolve(SDK));
        used.add(resolved);
        return { path: resolved };
      });
    },
  };
}

/** `name@version` of the package a resolved file belongs to. */
function packageNameAndVersion(file: string): string {
  for (let dir = path.dirname(file); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const pkg = path.join(dir, "package.json");
    if (!existsSync(pkg)) continue;
    const { name, version } = JSON.parse(readFileSync(pkg, "utf8")) as { name?: string; version?: string };
    if (name) return `${name}@${version ?? "unknown"}`;
  }
  return SDK;
}

/** One line: where (relative to the working directory) and what. */
function describeProblem(m: esbuild.Message, controllerName: string): string {
  const loc = m.location;
  if (!loc || loc.file === "<entry>") {
    // Problems in the generated entry are about the controller's exports.
    const text = /No matching export .* for import "default"/.test(m.text)
      ? `has no default export (write \`export default defineController({ getWitnesses, entrypoint })\`)`
      : m.text;
    return `${controllerName}: ${text}`;
  }
  return `${loc.file}:${loc.line}:${loc.column + 1}: ${m.text}`;
}
