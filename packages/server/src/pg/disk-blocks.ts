import { formatVolume, type BlockDevice } from "@zkguest/fat16";
import { DiskQueue, type Phase, type PhaseDisk } from "@zkguest/host-sdk";
import { ZkguestError } from "@zkguest/protocol";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type pg from "pg";
import { hold } from "./db.js";

// Disks in PostgreSQL, as the blocks their phases wrote (zkguest.blocks), each disk with a
// generation that every phase that changed it moved on by one, by compare-and-set. A process
// keeps a local replica of each disk it uses (an image file and a digest per block), brings it
// up to date before a phase from the blocks newer than its generation, and after the phase
// writes back only the blocks whose digest changed, in the transaction that holds the disk.

/** Bytes per stored block: a FAT-16 sector is 512; a phase that stores a small file changes a few blocks of 4 KiB (the FAT copies, a directory, the data). */
export const BLOCK_BYTES = 4096;
/** Blocks fetched or written per statement (1 MiB). */
const BATCH_BLOCKS = 256;
/** Digest bytes kept per block (SHA-256, truncated: a collision is a 2^-128 chance). */
const DIGEST_BYTES = 16;
const ZERO_DIGEST = Buffer.alloc(DIGEST_BYTES);

/** A block and its index on the disk. */
export interface Block {
  readonly idx: number;
  readonly data: Buffer;
}

/** A disk's row: what its replica needs to know. */
export interface DiskRow {
  readonly id: string;
  readonly bytes: number;
  readonly blockBytes: number;
  readonly generation: number;
}

const digest = (block: Uint8Array): Buffer => (isZero(block) ? ZERO_DIGEST : createHash("sha256").update(block).digest().subarray(0, DIGEST_BYTES));

/** Zeros to compare blocks with (blocks are at most this long). */
const ZEROS = Buffer.alloc(64 * 1024);

function isZero(block: Uint8Array): boolean {
  return Buffer.from(block.buffer, block.byteOffset, block.byteLength).equals(ZEROS.subarray(0, block.byteLength));
}

/**
 * A device of `byteLength` zeros that keeps only the blocks written to it: formatting a disk
 * writes its boot sector, FATs and root directory, a few KiB whatever the disk's size.
 */
class BlockMap implements BlockDevice {
  readonly blocks = new Map<number, Buffer>();
  constructor(readonly byteLength: number) {}

  read(position: number, into: Uint8Array): void {
    into.fill(0);
    for (let at = 0; at < into.length; ) {
      const idx = Math.floor((position + at) / BLOCK_BYTES);
      const offset = (position + at) % BLOCK_BYTES;
      const n = Math.min(BLOCK_BYTES - offset, into.length - at);
      this.blocks.get(idx)?.copy(into, at, offset, offset + n);
      at += n;
    }
  }

  write(position: number, data: Uint8Array | readonly Uint8Array[]): void {
    for (const part of data instanceof Uint8Array ? [data] : data) {
      for (let at = 0; at < part.length; ) {
        const idx = Math.floor(position / BLOCK_BYTES);
        const offset = position % BLOCK_BYTES;
        const n = Math.min(BLOCK_BYTES - offset, part.length - at);
        let block = this.blocks.get(idx);
        if (block === undefined) this.blocks.set(idx, (block = Buffer.alloc(Math.min(BLOCK_BYTES, this.byteLength - idx * BLOCK_BYTES))));
        block.set(part.subarray(at, at + n), offset);
        at += n;
        position += n;
      }
    }
  }

  sync(): void {}
  close(): void {}
}

/** The non-zero blocks of a freshly formatted disk of `bytes` (the rest of a new disk is zeros). */
export function formattedBlocks(bytes: number): Block[] {
  const device = new BlockMap(bytes);
  formatVolume(device, { size: bytes });
  return [...device.blocks].filter(([, data]) => !isZero(data)).map(([idx, data]) => ({ idx, data }));
}

/** Writes blocks of a disk at a generation (new blocks, or newer content of known ones). */
export async function writeBlocks(client: pg.ClientBase, disk: string, generation: number, blocks: readonly Block[]): Promise<void> {
  for (let i = 0; i < blocks.length; i += BATCH_BLOCKS) {
    const batch = blocks.slice(i, i + BATCH_BLOCKS);
    await client.query(
      `INSERT INTO zkguest.blocks (disk, idx, generation, data)
       SELECT $1, idx, $2, data FROM unnest($3::int[], $4::bytea[]) AS b(idx, data)
       ON CONFLICT (disk, idx) DO UPDATE SET generation = EXCLUDED.generation, data = EXCLUDED.data`,
      [disk, generation, batch.map((b) => b.idx), batch.map((b) => b.data)],
    );
  }
}

/** One disk's local copy: an image file, a digest per block, and the generation they are at (-1: none yet). */
class Replica {
  generation = -1;
  private digests: Buffer;

  constructor(
    readonly image: string,
    readonly disk: DiskRow,
  ) {
    this.digests = Buffer.alloc(this.blockCount * DIGEST_BYTES);
  }

  get blockCount(): number {
    return Math.ceil(this.disk.bytes / this.disk.blockBytes);
  }

  /** Brings the image to `generation` with the blocks written since its own (all of them, for a new replica). */
  async catchUp(client: pg.ClientBase, generation: number): Promise<void> {
    if (this.generation > generation) this.generation = -1; // the database went back (a restore): start over
    if (this.generation === generation) return;
    if (this.generation === -1) {
      await fs.promises.rm(this.image, { force: true });
      const fresh = await fs.promises.open(this.image, "wx");
      await fresh.truncate(this.disk.bytes);
      await fresh.close();
      this.digests.fill(0);
    }
    const file = await fs.promises.open(this.image, "r+");
    try {
      for (let after = -1; ; ) {
        const { rows } = await client.query<{ idx: number; data: Buffer }>(
          "SELECT idx, data FROM zkguest.blocks WHERE disk = $1 AND generation > $2 AND idx > $3 ORDER BY idx LIMIT $4",
          [this.disk.id, Math.max(this.generation, 0), after, BATCH_BLOCKS],
        );
        for (const { idx, data } of rows) {
          if (data.length !== this.blockLength(idx)) throw new ZkguestError("corrupt_volume", `disk ${this.disk.id}: block ${idx} holds ${data.length} bytes, not ${this.blockLength(idx)}`);
          await file.write(data, 0, data.length, idx * this.disk.blockBytes);
          digest(data).copy(this.digests, idx * DIGEST_BYTES);
        }
        if (rows.length < BATCH_BLOCKS) break;
        after = rows[rows.length - 1]!.idx;
      }
    } finally {
      await file.close();
    }
    this.generation = generation;
  }

  /**
   * Marks the image unwritten: its modification time goes to the epoch, and any write moves it
   * to now. Most phases never open the disk (the host opens it on the first file request), and
   * changes() then needs no diff at all.
   */
  async markUnwritten(): Promise<void> {
    await fs.promises.utimes(this.image, 0, 0);
  }

  /**
   * The blocks whose content differs from the digests: what the phase changed (none, without a
   * look, when nothing was written since markUnwritten()). Reads the image in 1 MiB steps (the
   * event loop runs between them).
   */
  async changes(): Promise<Block[]> {
    if ((await fs.promises.stat(this.image)).mtimeMs === 0) return [];
    const { blockBytes } = this.disk;
    const changed: Block[] = [];
    const chunk = Buffer.alloc(BATCH_BLOCKS * blockBytes);
    const file = await fs.promises.open(this.image, "r");
    try {
      for (let first = 0; first < this.blockCount; first += BATCH_BLOCKS) {
        const { bytesRead } = await file.read(chunk, 0, chunk.length, first * blockBytes);
        for (let at = 0; at < bytesRead; at += blockBytes) {
          const idx = first + at / blockBytes;
          const block = chunk.subarray(at, Math.min(bytesRead, at + blockBytes));
          const known = this.digests.subarray(idx * DIGEST_BYTES, (idx + 1) * DIGEST_BYTES);
          if (known.equals(ZERO_DIGEST) && isZero(block)) continue;
          if (!digest(block).equals(known)) changed.push({ idx, data: Buffer.from(block) });
        }
      }
    } finally {
      await file.close();
    }
    return changed;
  }

  /** The changed blocks are now the database's, at `generation`. */
  accept(blocks: readonly Block[], generation: number): void {
    for (const b of blocks) digest(b.data).copy(this.digests, b.idx * DIGEST_BYTES);
    this.generation = generation;
  }

  /** Forget what the image holds: the next use builds it again from the database. */
  invalidate(): void {
    this.generation = -1;
  }

  private blockLength(idx: number): number {
    return Math.min(this.disk.blockBytes, this.disk.bytes - idx * this.disk.blockBytes);
  }
}

/**
 * The replicas of one process, in a directory of its own. A replica is used by one task at a
 * time (phases and reads of a disk queue for it in this process, as they queue for the disk's
 * row in the database); the least recently used are dropped past `max`.
 */
export class Replicas {
  private readonly replicas = new Map<string, Replica>();
  private readonly turns = new DiskQueue();

  constructor(
    private readonly dir: string,
    private readonly max = 64,
  ) {
    fs.mkdirSync(dir, { recursive: true });
  }

  with<T>(disk: DiskRow, task: (replica: Replica) => Promise<T>): Promise<T> {
    return this.turns.run(disk.id, async () => {
      let replica = this.replicas.get(disk.id);
      if (replica === undefined || replica.disk.bytes !== disk.bytes || replica.disk.blockBytes !== disk.blockBytes) {
        replica = new Replica(path.join(this.dir, `${disk.id}.img`), disk);
      }
      // Most recently used last.
      this.replicas.delete(disk.id);
      this.replicas.set(disk.id, replica);
      try {
        return await task(replica);
      } finally {
        await this.evict();
      }
    });
  }

  /** Removes the replica files (the process is done with them). */
  close(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private async evict(): Promise<void> {
    for (const [id, replica] of this.replicas) {
      if (this.replicas.size <= this.max) return;
      this.replicas.delete(id);
      // Taking its turn: no task is using it while its file goes.
      // A file that cannot be removed now is left for close(), which removes the directory.
      this.turns.run(id, () => (this.replicas.has(id) ? Promise.resolve() : fs.promises.rm(replica.image, { force: true }))).catch(() => {});
    }
  }
}

/** Reads a disk's row (its size and generation); locks it for the transaction when `forUpdate`. */
export async function diskRow(client: pg.ClientBase | pg.Pool, disk: string, forUpdate: boolean): Promise<DiskRow> {
  const { rows } = await client.query<{ bytes: string; block_bytes: number; generation: string }>(
    `SELECT bytes, block_bytes, generation FROM zkguest.disks WHERE id = $1${forUpdate ? " FOR UPDATE" : ""}`,
    [disk],
  );
  const row = rows[0];
  if (row === undefined) throw new ZkguestError("not_found", `disk ${disk} is not in the database`);
  const found = { id: disk, bytes: Number(row.bytes), blockBytes: row.block_bytes, generation: Number(row.generation) };
  const sizes = (n: number, max: number) => Number.isSafeInteger(n) && n > 0 && n % 512 === 0 && n <= max;
  if (!sizes(found.blockBytes, ZEROS.length) || !sizes(found.bytes, Number.MAX_SAFE_INTEGER)) {
    throw new ZkguestError("corrupt_volume", `disk ${disk}: ${found.bytes} bytes in blocks of ${found.blockBytes} is not a disk this server can hold`);
  }
  return found;
}

/**
 * A run's disk (RunOptions.disk) in PostgreSQL. Each phase runs inside one transaction that
 * holds the disk's row (`FOR UPDATE`: phases of a disk take turns, first come first served, on
 * every machine), on the replica brought up to date; then the blocks it changed, the new
 * generation (compare-and-set on the one read) and the record that this run's phase took
 * effect commit together, or not at all. A worker killed mid-phase leaves no trace: its
 * transaction rolls back and its lock goes with its connection.
 *
 * A retried run (the same `run` id) whose phase already took effect runs the phase again (the
 * host must finish the run) but its writes are dropped: no run's phase changes a disk twice.
 */
export class PgPhaseDisk implements PhaseDisk {
  constructor(
    private readonly pool: pg.Pool,
    private readonly replicas: Replicas,
    private readonly disk: DiskRow,
    private readonly run: string,
  ) {}

  use<T>(phase: Phase, task: (image: string) => Promise<T>): Promise<T> {
    return this.replicas.with(this.disk, async (replica) => {
      const { client, release } = await hold(this.pool);
      let broken = false;
      try {
        await client.query("BEGIN");
        const { generation } = await diskRow(client, this.disk.id, true);
        const earlier = await client.query("SELECT 1 FROM zkguest.disk_commits WHERE run = $1 AND phase = $2", [this.run, phase]);
        await replica.catchUp(client, generation);
        await replica.markUnwritten();
        const result = await task(replica.image);
        const changed = await replica.changes();
        if (earlier.rowCount !== 0) {
          // This run's phase took effect in an earlier attempt: this attempt's writes go.
          await client.query("ROLLBACK");
          if (changed.length > 0) replica.invalidate();
          return result;
        }
        const next = generation + 1;
        if (changed.length > 0) {
          await writeBlocks(client, this.disk.id, next, changed);
          const cas = await client.query("UPDATE zkguest.disks SET generation = $2 WHERE id = $1 AND generation = $3", [this.disk.id, next, generation]);
          if (cas.rowCount !== 1) throw new ZkguestError("internal", `disk ${this.disk.id} moved past generation ${generation} during the phase`);
          await client.query("INSERT INTO zkguest.disk_commits (run, phase, disk, generation) VALUES ($1, $2, $3, $4)", [this.run, phase, this.disk.id, next]);
        }
        await client.query("COMMIT");
        if (changed.length > 0) replica.accept(changed, next);
        return result;
      } catch (e) {
        replica.invalidate();
        await client.query("ROLLBACK").catch(() => (broken = true));
        throw e;
      } finally {
        release(broken);
      }
    });
  }
}
