import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { VllmWheelsError } from '../errors';
import { isProcessAlive } from './pid';

export interface LockOptions {
  timeoutMs?: number;
  /** Called once when the lock is held by another process and we start waiting. */
  onWait?: (ownerPid: number | undefined) => void;
  /**
   * Called with the lock dir (still as its dead owner left it) before a stale lock is taken over: the
   * place to clean up after the owner, e.g. stop what it started. Several waiters may
   * call it for the same dead owner: it must be idempotent.
   */
  onStale?: (lockDir: string, ownerPid: number | undefined) => Promise<void> | void;
}

function ownerOf(lockDir: string): number | undefined {
  try {
    return Number(readFileSync(join(lockDir, 'pid'), 'utf8')) || undefined;
  } catch {
    return undefined;
  }
}

/** A lock dir whose owner died between mkdir and writing its pid: no pid file after a grace period. */
function orphanedWithoutPid(lockDir: string): boolean {
  try {
    return Date.now() - statSync(lockDir).mtimeMs > 10_000;
  } catch {
    return false;
  }
}

/**
 * Removes a stale lock so that exactly one waiter wins: the lock dir is first renamed away (atomic; a
 * second waiter's rename fails), so nobody deletes a lock another waiter has just taken.
 */
function breakStaleLock(lockDir: string): void {
  const grave = `${lockDir}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    renameSync(lockDir, grave);
  } catch {
    return; // someone else broke it first
  }
  rmSync(grave, { recursive: true, force: true });
}

/**
 * Runs `fn` holding an inter-process lock (a directory: mkdir is atomic). A lock whose owner process
 * is gone is taken over, so a killed build never wedges later ones.
 */
export async function withLock<T>(lockDir: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 60 * 60 * 1000);
  mkdirSync(dirname(lockDir), { recursive: true });
  let waited = false;
  const waitStart = Date.now();
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(join(lockDir, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = ownerOf(lockDir);
      if (owner !== undefined ? !isProcessAlive(owner) : orphanedWithoutPid(lockDir)) {
        if (options.onStale) await options.onStale(lockDir, owner);
        breakStaleLock(lockDir);
        continue;
      }
      if (Date.now() > deadline) throw new VllmWheelsError(`Timed out waiting for lock ${lockDir} (held by pid ${owner ?? 'unknown'}).`);
      // The owner writes its pid just after mkdir: report the wait once the pid is readable (or the
      // lock has stayed pid-less for a while), so the message names who holds the lock.
      if (!waited && (owner !== undefined || Date.now() - waitStart > 2_000)) {
        options.onWait?.(owner);
        waited = true;
      }
      await new Promise((r) => setTimeout(r, owner === undefined ? 20 : 200));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}
