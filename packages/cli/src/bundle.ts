import { GUEST_BUNDLE_OPTIONS, guestEntrySource } from "@zkguest/guest-sdk/bundle";
import { sourceMapProblem } from "@zkguest/host-sdk";
import * as esbuild from "esbuild";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** A controller bundled with the guest SDK: one script for the QuickJS engine (SPEC.md §11). */
export interface GuestBundle {
  readonly code: Uint8Array;
  /** The code's source map (JSON, UTF-8), unless it was not asked for. */
  readonly sourceMap?: Uint8Array;
  /** The SDK bundled in, `name@version`, for the artifact's manifest. */
  readonly sdk: string;
}

export interface BundleOptions {
  /** Whether to minify (default true): smaller and faster for QuickJS to parse; false for a bundle you can read. */
  readonly minify?: boolean;
  /** Whether to make a source map (default true), for the host to show failures' stacks in the controller's files. */
  readonly sourceMap?: boolean;
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
 * The namespace of the files bundled from outside the controller's project (the CLI's own SDK
 * when the project has none, a package linked from elsewhere): they are named by their package,
 * `package:@zkguest/guest-sdk/dist/src/index.js`, not by where they are on this machine.
 */
const OUTSIDE = "package";

/** How esbuild reads a file from outside the project, by its extension (esbuild's own defaults). */
const LOADERS: Record<string, esbuild.Loader> = { ".ts": "ts", ".mts": "ts", ".cts": "ts", ".tsx": "tsx", ".jsx": "jsx", ".json": "json" };

/**
 * Bundles a controller module (TypeScript or JavaScript, default export made by
 * defineController) with the guest SDK into one ES module, minified unless told otherwise, with
 * its source map. Types are stripped, not checked (run `tsc` for that). Throws BuildError on
 * syntax errors and unresolved imports.
 *
 * The bundle and its map depend on the sources only, not on where they are: paths in the map
 * (and in the unminified bundle's comments) are relative to the controller's project (the
 * nearest directory with a package.json), so the same project built in another directory or on
 * another machine gives the same bytes. The map has no sourcesContent: the host needs the
 * sources' names and lines to show a stack, not their text, and an artifact given to a host
 * operator need not carry the author's sources (it would also double its size).
 */
export async function bundleController(controllerFile: string, options: BundleOptions = {}): Promise<GuestBundle> {
  const file = path.resolve(controllerFile);
  const root = projectRoot(file);
  const sdkUsed = new Set<string>();
  let result: esbuild.BuildResult<{ write: false }>;
  try {
    result = await esbuild.build({
      ...GUEST_BUNDLE_OPTIONS,
      mainFields: [...GUEST_BUNDLE_OPTIONS.mainFields],
      minify: options.minify ?? GUEST_BUNDLE_OPTIONS.minify,
      stdin: { contents: guestEntrySource(`./${path.basename(file)}`), resolveDir: path.dirname(file), sourcefile: "<entry>", loader: "js" },
      absWorkingDir: root,
      // Never written: its directory (the project) is what the map's paths are relative to.
      outfile: path.join(root, "guest.js"),
      sourcemap: options.sourceMap === false ? false : "external",
      sourcesContent: false,
      write: false,
      logLevel: "silent",
      plugins: [resolveInProject(root, sdkUsed)],
    });
  } catch (err) {
    const errors = (err as { errors?: esbuild.Message[] }).errors;
    if (!errors) throw err;
    throw new BuildError(errors.map((m) => describeProblem(m, root, path.basename(file))));
  }
  const code = result.outputFiles.find((f) => f.path.endsWith(".js"));
  if (!code) throw new BuildError([`${controllerFile}: esbuild produced no output`]);
  const sourceMap = result.outputFiles.find((f) => f.path.endsWith(".map"))?.contents;
  // A map the host would not use (too large to decode) is refused here rather than carried for nothing.
  const unusable = sourceMap === undefined ? undefined : sourceMapProblem(sourceMap);
  if (unusable !== undefined) throw new BuildError([`${controllerFile}: ${unusable}; leave it out (zkguest build --no-source-map)`]);
  return { code: code.contents, ...(sourceMap === undefined ? {} : { sourceMap }), sdk: [...sdkUsed].map(packageNameAndVersion).join(", ") || SDK };
}

/** The controller's project: the nearest directory above it with a package.json, else its own directory. */
function projectRoot(file: string): string {
  return owningPackage(file)?.dir ?? path.dirname(file);
}

/**
 * Resolves imports as esbuild does, with two differences. `@zkguest/guest-sdk` comes from the
 * project (its node_modules) or, when the project has none, from the copy this CLI depends on,
 * so that a lone controller file builds anywhere; `used` records which copy. And a file from
 * outside the project is bundled in the OUTSIDE namespace, so that neither the unminified
 * bundle's comments nor the map name where it is.
 */
function resolveInProject(root: string, used: Set<string>): esbuild.Plugin {
  const named = (file: string): esbuild.OnResolveResult => {
    const relative = path.relative(root, file);
    const inside = relative !== "" && !relative.startsWith("..") && !path.isAbsolute(relative);
    return inside ? { path: file } : { path: packagePath(file), namespace: OUTSIDE, pluginData: file };
  };
  return {
    name: "zkguest-resolve-in-project",
    setup(build) {
      build.onResolve({ filter: /.*/ }, async (args) => {
        if ((args.pluginData as { inner?: boolean } | undefined)?.inner) return undefined;
        const found = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: { inner: true } });
        let file: string;
        if (found.errors.length === 0 && found.namespace === "file" && !found.external) file = found.path;
        else if (args.path === SDK) file = fileURLToPath(import.meta.resolve(SDK));
        // esbuild resolves it again and reports what it cannot, where it is imported.
        else return undefined;
        if (args.path === SDK) used.add(file);
        return { ...named(file), ...(found.sideEffects === false ? { sideEffects: false } : {}) };
      });
      build.onLoad({ filter: /.*/, namespace: OUTSIDE }, (args) => {
        const file = args.pluginData as string;
        // esbuild would follow the file's own source map, to wherever its sources are on this machine.
        const contents = readFileSync(file, "utf8").replace(/^\/\/# sourceMappingURL=.*$/m, "");
        return { contents, loader: LOADERS[path.extname(file)] ?? "js", resolveDir: path.dirname(file) };
      });
    },
  };
}

/** The nearest package a file belongs to: the directory of its package.json, its name and version (when it has a name). */
function owningPackage(file: string): { dir: string; name?: string; version?: string } | undefined {
  for (let dir = path.dirname(file); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const pkg = path.join(dir, "package.json");
    if (!existsSync(pkg)) continue;
    const { name, version } = JSON.parse(readFileSync(pkg, "utf8")) as { name?: string; version?: string };
    return { dir, ...(name === undefined ? {} : { name }), ...(version === undefined ? {} : { version }) };
  }
  return undefined;
}

/** `name@version` of the package a resolved file belongs to. */
function packageNameAndVersion(file: string): string {
  const pkg = owningPackage(file);
  return pkg?.name ? `${pkg.name}@${pkg.version ?? "unknown"}` : SDK;
}

/** A file by its package's name and its path in the package: `@zkguest/guest-sdk/dist/src/index.js`. */
function packagePath(file: string): string {
  const pkg = owningPackage(file);
  const inPackage = path.relative(pkg?.dir ?? path.dirname(file), file).split(path.sep).join("/");
  return pkg?.name ? `${pkg.name}/${inPackage}` : inPackage;
}

/** One line: where (relative to the working directory) and what. */
function describeProblem(m: esbuild.Message, root: string, controllerName: string): string {
  const loc = m.location;
  if (!loc || loc.file === "<entry>") {
    // Problems in the generated entry are about the controller's exports.
    const text = /No matching export .* for import "default"/.test(m.text)
      ? `has no default export (write \`export default defineController({ getWitnesses, entrypoint })\`)`
      : m.text;
    return `${controllerName}: ${text}`;
  }
  // esbuild names a project's file relative to its working directory, the project (and another by its namespace).
  const file = loc.namespace === "" || loc.namespace === "file" ? path.relative(process.cwd(), path.resolve(root, loc.file)) : loc.file;
  return `${file}:${loc.line}:${loc.column + 1}: ${m.text}`;
}
