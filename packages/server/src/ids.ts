import { ZkguestError } from "@zkguest/protocol";

/** A program id: the SHA-256 of its code, 64 lower-case hex digits. */
export const PROGRAM_ID_PATTERN = "^[0-9a-f]{64}$";
/** A job id: a UUID, lower-case. */
export const JOB_ID_PATTERN = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$";

const PROGRAM_ID = new RegExp(PROGRAM_ID_PATTERN);

/** The id, if it is one; `not_found` otherwise (it names files and rows: no path tricks). */
export function checkProgramId(id: string): string {
  if (!PROGRAM_ID.test(id)) throw new ZkguestError("not_found", `'${id.slice(0, 80)}' is not a program id (64 lower-case hex digits)`);
  return id;
}
