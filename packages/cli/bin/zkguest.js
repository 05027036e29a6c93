#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm run build` (run by `npm ci` through the root prepare script).
import("../dist/src/main.js").then((m) => m.main(process.argv.slice(2))).then(
  (code) => { process.exitCode = code; },
  (err) => {
    const missing = err && err.code === "ERR_MODULE_NOT_FOUND";
    process.stderr.write(missing ? "zkguest: not built: run `npm run build` first\n" : `zkguest: internal: ${err && err.message}\n`);
    process.exitCode = 2;
  },
);
