import { formatVolume, MIN_VOLUME_BYTES, MAX_VOLUME_BYTES, Volume } from "@zkguest/fat16";
import { isZkguestError, ZkguestError } from "@zkguest/protocol";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { readArtifact, readArtifactFile, type Artifact } from "../artifact.js";
import type { Registry } from "./registry.js";

/** Default size of a program's disk. */
export const DEFAULT_DISK_BYTES = 16 * 1024 * 1024;

export interface DirectoryRegistryOptions {
  /** Size of each program's disk image, in bytes (a multiple of 512; default 16 MiB). Images are sparse. */
  readonly diskBytes?: number;
}

const PROGRAM_ID = /^[0-9a-f]{64}$/;

/**
 * A registry in one directory: `programs/<id>.zkg` holds each artifact, `disks/<id>.img` each
 * program's FAT-16 disk, formatted on first use. Files appear atomically (written aside, then
 * linked or renamed into place), so a crash never leaves half an artifact or half a disk.
 */
export class DirectoryRegistry implements Registry {
  readonly diskBytes: number;

  constructor(
    readonly dir: string,
    options: DirectoryRegistryOptions = {},
  ) {
    this.diskBytes = options.diskBytes ?? DEFAULT_DISK_BYTES;
    checkDiskBytes(this.diskBytes);
    fs.mkdirSync(path.join(dir, "programs"), { recursive: true });
    fs.mkdirSync(path.join(dir, "disks"), { recursive: true });
  }

  async put(artifactBytes: Uint8Array): Promise<Artifact> {
    const artifact = readArtifact(artifactBytes);
    const target = this.artifactPath(artifact.manifest.id);
    if (!fs.existsSync(target)) {
      const aside = `${target}.${randomBytes(6).toString("hex")}.tmp`;
      fs.writeFileSync(aside, artifactBytes, { flag: "wx" });
      fs.renameSync(aside, target);
    }
    return artifact;
  }

  async get(programId: string): Promise<Artifact | undefined> {
    const file = this.artifactPath(programId);
    try {
      return readArtifactFile(file).artifact;
    } catch (e) {
      if (e instanceof ZkguestError && e.code === "not_found") return undefined;
      throw e;
    }
  }

  async diskImage(programId: string): Promise<string> {
    const image = path.join(this.dir, "disks", `${checkProgramId(programId)}.img`);
    ensureDiskImage(image, this.diskBytes);
    return image;
  }

  private artifactPath(programId: string): string {
    return path.join(this.dir, "programs", `${checkProgramId(programId)}.zkg`);
  }
}

/**
 * Formats a disk image at `image` unless one is there. Formatted aside and then hard-linked
 * into place, which fails if another process got there first: never a half-formatted image,
 * never one formatted over another.
 */
export function ensureDiskImage(image: string, bytes: number): void {
  if (fs.existsSync(image)) return;
  checkDiskBytes(bytes);
  const aside = `${image}.${randomBytes(6).toString("hex")}.tmp`;
  formatVolume(aside, { size: bytes });
  try {
    fs.linkSync(aside, image);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  } finally {
    fs.rmSync(aside, { force: true });
  }
}

/**
 * Checks that the file at `image` (named `shown` in errors) opens as a FAT volume, so that a
 * wrong `--image` (a directory, a file of other bytes) is the host's error about the image
 * before any guest runs, not a failure of the guest's first disk request. Opened read-only: it
 * reads the boot sector and the FAT, and changes nothing.
 */
export function checkDiskImage(image: string, shown: string = image): void {
  if (fs.statSync(image).isDirectory()) throw new ZkguestError("corrupt_volume", `${shown}: a directory, not a disk image`);
  try {
    Volume.open(image, { readOnly: true }).close();
  } catch (err) {
    if (!isZkguestError(err)) throw err;
    throw new ZkguestError("corrupt_volume", `${shown}: not a FAT-16 disk image: ${err.message}`);
  }
}

/** A program id names files: only the 64 hex digits it is made of are accepted (no path tricks). */
function checkProgramId(programId: string): string {
  if (!PROGRAM_ID.test(programId)) throw new ZkguestError("not_found", `'${programId}' is not a program id (64 lower-case hex digits)`);
  return programId;
}

function checkDiskBytes(bytes: number): void {
  if (!Number.isSafeInteger(bytes) || bytes % 512 !== 0 || bytes < MIN_VOLUME_BYTES || bytes > MAX_VOLUME_BYTES) {
    throw new RangeError(`disk size: expected a multiple of 512 from ${MIN_VOLUME_BYTES} to ${MAX_VOLUME_BYTES} bytes, got ${bytes}`);
  }
}
