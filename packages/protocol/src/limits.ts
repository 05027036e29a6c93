import * as t from "io-ts";
import { struct } from "./struct.js";
import { UIntC } from "./values.js";

export { DEFAULT_LIMITS, MAX_FRAME_DEPTH } from "./frame-defaults.js";

/**
 * The limits a host announces in `hello` (SPEC.md §6). The first three are enforced by both
 * peers on every frame; the rest describe the resources the host grants this run.
 */
export const LimitsC = struct(
  "Limits",
  { max_frame_bytes: UIntC, max_path_bytes: UIntC, max_log_message_bytes: UIntC },
  {
    max_log_bytes: UIntC,
    max_host_calls: UIntC,
    quota_bytes: UIntC,
    quota_files: UIntC,
    memory_bytes: UIntC,
    stack_bytes: UIntC,
    time_ms: UIntC,
  },
);
export type Limits = t.TypeOf<typeof LimitsC>;
