// Property tests explore a new seed on every run, except in CI, which runs one fixed seed so
// that a submission passes or fails on its own change, not on the draw. fast-check prints the
// seed of any failure; `FC_SEED=<seed> npm test` replays it (and picks the seed anywhere).
// Worker threads and child processes inherit FC_SEED through the environment.
import fc from "fast-check";

if (process.env.CI && !process.env.FC_SEED) process.env.FC_SEED = "20261125";
if (process.env.FC_SEED) fc.configureGlobal({ seed: Number(process.env.FC_SEED) });
