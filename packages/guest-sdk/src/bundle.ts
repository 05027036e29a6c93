/**
 * `@zkguest/guest-sdk/bundle`: how a controller module becomes a guest bundle, for build tools
 * (the CLI's `zkguest build`, tests). Nothing here runs inside the sandbox.
 */

/** This package, as the entry imports it (the bundler resolves it from the controller's project). */
const SDK = "@zkguest/guest-sdk";

/**
 * The source of a guest bundle's entry module: it imports the controller module (whose default
 * export is made by defineController) and serves it. Give it to esbuild as stdin, with
 * `resolveDir` set to where `controllerImport` resolves from.
 */
export function guestEntrySource(controllerImport: string): string {
  return `import controller from ${JSON.stringify(controllerImport)};\nimport { serve } from ${JSON.stringify(SDK)};\nserve(controller);\n`;
}

/**
 * esbuild options for a guest bundle: one ES module (SPEC.md §11) for a sandbox that has no
 * Node API, minified because QuickJS parses about 10 KB per millisecond and the bundle is
 * parsed at every cold start.
 */
export const GUEST_BUNDLE_OPTIONS = {
  bundle: true,
  format: "esm" as const,
  platform: "neutral" as const,
  mainFields: ["module", "main"],
  target: "es2022",
  minify: true,
  legalComments: "none" as const,
};
