import type { Witness } from "@zkguest/protocol/core";
import { activeSession } from "./session.js";

/**
 * Hands the witnesses to the host (`witness.ready`): proving may begin. Call it once inside
 * getWitnesses, or return the witnesses from getWitnesses instead. Each witness is raw data
 * (`{ type: "data", data }`) or a state proof (`{ type: "state_proof", domain, root, payload, proof }`).
 */
export function ready(witnesses: readonly Witness[]): void {
  activeSession().ready(witnesses);
}
