import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { withLock, writeFileAtomic } from '../fs';
import type { Logger } from '../log';
import { killProcessGroupTree, processGroupTree, processStartTime } from '../process';

/** What a build lock remembers of the build it runs: enough to find that build after its runner was killed. */
interface BuildTreeRecord {
  /** The build command's pid; it leads its own process group (pgid = pid). */
  pgid: number;
  /** Its start time (/proc), so a reused pid is never taken for it. */
  startTime: string | undefined;
}

const RECORD_FILE = 'build-tree.json';

export interface BuildLockOptions {
  lockDir: string;
  /** What is locked, for the log ("the worktree /cache/src/vllm-cpu"). */
  what: string;
  log: Logger;
  timeoutMs?: number;
}

/** Passed to the locked work: record each build command the moment it starts. */
export type RecordBuildProcess = (pid: number) => void;

/**
 * Runs `fn` holding the lock of one variant's worktree for the whole prepare + build: no build ever reads
 * a worktree another build (of this or another workspace on the same machine cache) is changing. Waiting
 * is reported. The lock records the running build's process group: a run killed outright (SIGKILL) leaves
 * its build running in that group, and the next run stops it (and says so) before it touches the worktree.
 */
export function withBuildLock<T>(options: BuildLockOptions, fn: (record: RecordBuildProcess) => Promise<T>): Promise<T> {
  const { lockDir, log } = options;
  const record: RecordBuildProcess = (pid) => {
    const entry: BuildTreeRecord = { pgid: pid, startTime: processStartTime(pid) };
    writeFileAtomic(join(lockDir, RECORD_FILE), JSON.stringify(entry));
  };
  return withLock(lockDir, () => fn(record), {
    timeoutMs: options.timeoutMs ?? 12 * 60 * 60_000,
    onWait: (pid) => log.info(`Waiting for another build (pid ${pid ?? '?'}) to finish with ${options.what}…`),
    onStale: (dir, owner) => stopOrphanedBuild(dir, owner, options),
  });
}

function readRecord(lockDir: string): BuildTreeRecord | undefined {
  try {
    const value = JSON.parse(readFileSync(join(lockDir, RECORD_FILE), 'utf8')) as BuildTreeRecord;
    return Number.isInteger(value.pgid) && value.pgid > 1 ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The lock's owner is gone; if the build it started still runs (its group leader with the recorded start
 * time, or any member of its group: a group id is not reused while the group has members), stop it.
 */
async function stopOrphanedBuild(lockDir: string, owner: number | undefined, options: BuildLockOptions): Promise<void> {
  const entry = readRecord(lockDir);
  if (!entry) return;
  const leaderStart = processStartTime(entry.pgid);
  if (leaderStart !== undefined && entry.startTime !== undefined && leaderStart !== entry.startTime) return; // the pid was reused
  const alive = processGroupTree(entry.pgid);
  if (alive.length === 0) return;
  options.log.warn(
    `A run that was killed (pid ${owner ?? '?'}) left its build running in ${options.what} (process group ${entry.pgid}: ${alive.length} process(es)). ` +
      'Stopping it before building there.',
  );
  killProcessGroupTree(entry.pgid);
  const deadline = Date.now() + 10_000;
  while (processGroupTree(entry.pgid).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}
