import type { Artifact } from "../artifact.js";

/**
 * Where a host keeps deployed programs and their disks. The embedded default is
 * DirectoryRegistry; a host can put programs elsewhere (a database, object storage) as long as
 * each program's disk is a FAT-16 image file the workers can open by path.
 */
export interface Registry {
  /** Checks and stores an artifact's bytes; gives the artifact (its manifest's id is the program id). Storing the same program again is a no-op. */
  put(artifactBytes: Uint8Array): Promise<Artifact>;
  /** The artifact of a program, or undefined if none was deployed with that id. */
  get(programId: string): Promise<Artifact | undefined>;
  /** The path of the program's disk image, created (formatted) on first use. */
  diskImage(programId: string): Promise<string>;
}
