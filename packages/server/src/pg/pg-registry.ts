import { readArtifact, type Artifact, type Registry } from "@zkguest/host-sdk";
import { ZkguestError } from "@zkguest/protocol";
import type pg from "pg";

/**
 * Artifacts in PostgreSQL (zkguest.programs). Disks are not files here: a run reaches its disk
 * through PgPhaseDisk (RunOptions.disk), so diskImage refuses rather than hand out an image
 * whose writes no one would keep.
 */
export class PgRegistry implements Registry {
  constructor(private readonly pool: pg.Pool) {}

  async put(artifactBytes: Uint8Array): Promise<Artifact> {
    const artifact = readArtifact(artifactBytes);
    await this.pool.query("INSERT INTO zkguest.programs (id, artifact) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING", [artifact.manifest.id, Buffer.from(artifactBytes)]);
    return artifact;
  }

  async get(programId: string): Promise<Artifact | undefined> {
    const { rows } = await this.pool.query<{ artifact: Buffer }>("SELECT artifact FROM zkguest.programs WHERE id = $1", [programId]);
    return rows[0] === undefined ? undefined : readArtifact(rows[0].artifact);
  }

  async diskImage(programId: string): Promise<string> {
    throw new ZkguestError("invalid_state", `program ${programId}: disks in PostgreSQL are reached through a PgPhaseDisk (RunOptions.disk), not an image path`);
  }
}
