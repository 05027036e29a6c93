import { ZkguestError } from "@zkguest/protocol/core";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { hostError } from "./block-device.js";

/**
 * An inter-process lock on an image file, so that two processes never write one image at once
 * (two hosts sharing a data directory, `zkguest run --image` and `zkguest fs put` on the same
 * file): their writes would interleave and corrupt the volume.
 *
 * The lock is the file `IMAGE.lock`, holding its holder's pid, host name and process start
 * time. It is made by hard-linking a file written aside, which fails if the lock exists, so it
 * never exists half-written. A waiter polls until the lock is free, or until its holder is
 * found dead (a SIGKILLed process releases nothing): then the lock is broken, under a second
 * lock (`IMAGE.lock.break`) so that two waiters never break it twice, removing the lock the
 * other has just taken. A holder on another machine cannot be checked and is waited for.
 *
 * Node has no flock(2). proper-lockfile, the usual library, detects a dead holder only by the
 * lock's age, which its holder must refresh on a timer: a dead holder blocks for that long,
 * and a live one whose event loop stalls loses its lock. A pid is checked at once, and stays
 * valid however busy its holder is.
 */

/** How long a locker waits for a live holder by default before failing. */
export const DEFAULT_LOCK_WAIT_MS = 60_000;

export interface ImageLockOptions {
  /** How long to wait for a live holder before failing with `invalid_state` (default DEFAULT_LOCK_WAIT_MS). */
  readonly waitMs?: number;
}

/** Who holds a lock, as its file says. */
interface Holder {
  readonly pid: number;
  readonly host: string;
  /** The holder's start time (Linux, /proc/PID/stat), so that a reused pid is not taken for it. */
  readonly started?: string;
  /** Unique to this taking of the lock: a release removes only its own lock. */
  readonly token: string;
}

const FIRST_POLL_MS = 5;
const MAX_POLL_MS = 100;

/**
 * Runs `task` holding the lock on `image`, waiting for another holder first (see the module's
 * comment). Throws ZkguestError `invalid_state` naming the holder when it is still held after
 * `waitMs`. On a read-only file system, where nobody can write the image, no lock is taken.
 */
export async function withImageLock<T>(image: string, task: () => Promise<T> | T, options: ImageLockOptions = {}): Promise<T> {
  const release = await lockImage(image, options);
  try {
    return await task();
  } finally {
    release();
  }
}

/** Takes the lock on `image` (as withImageLock) and gives the function that releases it. */
export async function lockImage(image: string, options: ImageLockOptions = {}): Promise<() => void> {
  const lockPath = `${image}.lock`;
  const me: Holder = { ...thisProcess(), token: randomBytes(8).toString("hex") };
  const waitMs = options.waitMs ?? DEFAULT_LOCK_WAIT_MS;
  const deadline = performance.now() + waitMs;
  let poll = FIRST_POLL_MS;
  for (;;) {
    const holder = tryLock(lockPath, me);
    if (holder === undefined) return () => unlock(lockPath, me);
    if (holder === "read-only") return () => {};
    // Freed meanwhile, or its dead holder's lock broken: try again at once.
    if (holder === "gone" || (!isAlive(holder) && breakStale(lockPath, holder, me))) continue;
    if (performance.now() >= deadline) {
      throw new ZkguestError(
        "invalid_state",
        `image '${image}' is in use by process ${holder.pid} on ${holder.host} (waited ${waitMs} ms; if no such process is running, remove ${lockPath})`,
      );
    }
    await sleep(poll);
    poll = Math.min(MAX_POLL_MS, poll * 2);
  }
}

/**
 * Creates `lockPath` for `me`; gives undefined when taken, else who holds it ("gone" when it
 * went away meanwhile: try again), or "read-only" when the file system cannot hold a lock.
 */
function tryLock(lockPath: string, me: Holder): Holder | "gone" | "read-only" | undefined {
  const aside = `${lockPath}.${me.token}`;
  try {
    fs.writeFileSync(aside, JSON.stringify(me), { flag: "wx" });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EROFS") return "read-only";
    throw hostError(e, `locking '${lockPath}'`);
  }
  try {
    fs.linkSync(aside, lockPath);
    return undefined;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw hostError(e, `locking '${lockPath}'`);
    return readHolder(lockPath) ?? "gone";
  } finally {
    fs.rmSync(aside, { force: true });
  }
}

function readHolder(lockPath: string): Holder | undefined {
  let text: string;
  try {
    text = fs.readFileSync(lockPath, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw hostError(e, `reading the lock '${lockPath}'`);
  }
  try {
    const h = JSON.parse(text) as Partial<Holder>;
    if (Number.isSafeInteger(h.pid) && typeof h.host === "string" && typeof h.token === "string") return h as Holder;
  } catch {
    // Not ours: treated below like a lock of a dead holder.
  }
  // Written whole or not at all (linked into place), so an unreadable lock is not one of ours.
  return { pid: 0, host: os.hostname(), token: `unreadable:${text.length}` };
}

/** Whether the holder may still be running: always, for a holder on another machine. */
function isAlive(holder: Holder): boolean {
  if (holder.host !== os.hostname()) return true;
  if (holder.pid <= 0) return false;
  try {
    process.kill(holder.pid, 0);
  } catch (e) {
    // EPERM: it exists, as another user.
    if ((e as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  // The pid may have been reused by a process started since.
  const now = startTimeOf(holder.pid).started;
  return holder.started === undefined || now === undefined || now === holder.started;
}

/** The process's start time in clock ticks since boot (field 22 of /proc/PID/stat), where Linux has it. */
let self: Omit<Holder, "token"> | undefined;

/** This process as a lock's holder: read once (a lock is taken at every phase of every run). */
function thisProcess(): Omit<Holder, "token"> {
  self ??= { pid: process.pid, host: os.hostname(), ...startTimeOf(process.pid) };
  return self;
}

function startTimeOf(pid: number): { started?: string } {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    const started = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
    return started === undefined ? {} : { started };
  } catch {
    return {};
  }
}

/**
 * Removes the lock of a dead holder, under the break lock, and only if it is still that
 * holder's: another waiter may have broken it and taken the lock since. Gives whether it is
 * gone; not when another waiter is breaking it now.
 */
function breakStale(lockPath: string, stale: Holder, me: Holder): boolean {
  const breakPath = `${lockPath}.break`;
  const breaker = tryLock(breakPath, me);
  if (breaker === "read-only") return false;
  if (breaker !== undefined) {
    // A breaker that died while breaking (a window of microseconds) is removed in turn.
    if (breaker !== "gone" && !isAlive(breaker)) removeIfHeldBy(breakPath, breaker);
    return false;
  }
  try {
    removeIfHeldBy(lockPath, stale);
    return true;
  } finally {
    unlock(breakPath, me);
  }
}

function removeIfHeldBy(lockPath: string, holder: Holder): void {
  if (readHolder(lockPath)?.token === holder.token) fs.rmSync(lockPath, { force: true });
}

function unlock(lockPath: string, me: Holder): void {
  removeIfHeldBy(lockPath, me);
}
