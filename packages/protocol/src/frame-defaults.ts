import type { Limits } from "./limits.js";

// Frame-level constants every peer needs before any handshake; no io-ts here, so that the guest
// SDK can use them inside the sandbox.

/** Frame-level defaults every peer applies until the handshake says otherwise. */
export const DEFAULT_LIMITS = {
  max_frame_bytes: 4 * 1024 * 1024,
  max_path_bytes: 255,
  max_log_message_bytes: 8 * 1024,
} as const satisfies Limits;

/** Containers nested deeper than this make a frame malformed (SPEC.md §3). */
export const MAX_FRAME_DEPTH = 32;
