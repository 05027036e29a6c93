import * as t from "io-ts";
import { struct } from "./struct.js";
import { UIntC } from "./values.js";

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

/** Frame-level defaults every peer applies until the handshake says otherwise. */
export const DEFAULT_LIMITS = {
  max_frame_bytes: 4 * 1024 * 1024,
  max_path_bytes: 255,
  max_log_message_bytes: 8 * 1024,
} as const satisfies Limits;

/** Containers nested deeper than this make a frame malformed (SPEC.md §3). */
export const MAX_FRAME_DEPTH = 32;
