export { main } from "./main.js";
export type { CliIO, Command } from "./cli-io.js";
export { UsageError, describeError } from "./cli-io.js";
export { buildArtifact } from "./guest-artifact.js";
export { BuildError, bundleController, type GuestBundle } from "./bundle.js";
