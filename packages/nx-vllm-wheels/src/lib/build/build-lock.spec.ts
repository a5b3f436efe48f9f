import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isGone, waitUntil } from '../../test-support/processes';
import { tempDir } from '../../test-support/temp';
import { recordingLogger } from '../log';
import { processGroupTree, processStartTime, run } from '../process';
import { withBuildLock } from './build-lock';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function deadPid(): number {
  return spawnSync('true').pid as number;
}

/**
 * A stand-in for a build whose runner was SIGKILLed: its own process group (as `run` starts builds), a
 * child that re-groups itself (as ninja does with each command), all still running.
 */
async function orphanedBuildTree(): Promise<number> {
  const leader = spawn('sh', ['-c', 'setsid sleep 3141 & sleep 3141 & wait'], { detached: true, stdio: 'ignore' });
  leader.unref();
  const pgid = leader.pid as number;
  await waitUntil(() => processGroupTree(pgid).length >= 3, 5_000);
  return pgid;
}

/** A lock dir as a killed run leaves it: the dead runner's pid, and the record of its build. */
function staleLock(lockDir: string, record: object): void {
  mkdirSync(lockDir, { recursive: true });
  writeFileSync(join(lockDir, 'pid'), String(deadPid()));
  writeFileSync(join(lockDir, 'build-tree.json'), JSON.stringify(record));
}

describe('withBuildLock', () => {
  it('records the build command it runs, so a later run can find it', async () => {
    const lockDir = join(tempDir('build-lock'), 'locks', 'build-v.lock');
    const log = recordingLogger();
    await withBuildLock({ lockDir, what: 'the worktree W', log }, async (record) => {
      await run('true', [], { cwd: lockDir, env: { PATH: process.env.PATH }, timeoutMs: 5_000, onSpawn: record });
      const entry = JSON.parse(readFileSync(join(lockDir, 'build-tree.json'), 'utf8'));
      expect(entry).toEqual({ pgid: expect.any(Number), startTime: expect.stringMatching(/^\d+$/) });
    });
    expect(existsSync(lockDir)).toBe(false);
  });

  it('stops the build a killed run left running (its whole group and what re-grouped itself), says so, then runs', async () => {
    const lockDir = join(tempDir('build-lock'), 'build-v.lock');
    const pgid = await orphanedBuildTree();
    const tree = processGroupTree(pgid);
    expect(tree.length).toBeGreaterThanOrEqual(3);
    staleLock(lockDir, { pgid, startTime: processStartTime(pgid) });
    const log = recordingLogger();
    let ranWith: number[] = [];
    await withBuildLock({ lockDir, what: 'the worktree W', log }, async () => {
      ranWith = tree.filter((pid) => !isGone(pid));
    });
    expect(ranWith).toEqual([]);
    expect(log.lines.join('\n')).toMatch(/WARNING: A run that was killed \(pid \d+\) left its build running in the worktree W \(process group \d+: 3 process\(es\)\)\. Stopping it before building there\./);
  });

  it('leaves alone a process that only reuses the recorded pid (other start time)', async () => {
    const lockDir = join(tempDir('build-lock'), 'build-v.lock');
    const pgid = await orphanedBuildTree();
    try {
      staleLock(lockDir, { pgid, startTime: '1' });
      const log = recordingLogger();
      await withBuildLock({ lockDir, what: 'W', log }, async () => undefined);
      expect(processGroupTree(pgid).length).toBeGreaterThanOrEqual(3);
      expect(log.lines.join('\n')).not.toContain('Stopping');
    } finally {
      process.kill(-pgid, 'SIGKILL');
    }
  });

  it('waits for a live build of the same worktree and says so', async () => {
    const lockDir = join(tempDir('build-lock'), 'build-v.lock');
    const order: string[] = [];
    const first = withBuildLock({ lockDir, what: 'the worktree W', log: recordingLogger() }, async () => {
      order.push('first starts');
      await sleep(1_500);
      order.push('first ends');
    });
    await sleep(50);
    const log = recordingLogger();
    const second = withBuildLock({ lockDir, what: 'the worktree W', log }, async () => {
      order.push('second runs');
    });
    await Promise.all([first, second]);
    expect(order).toEqual(['first starts', 'first ends', 'second runs']);
    expect(log.lines).toEqual([`Waiting for another build (pid ${process.pid}) to finish with the worktree W…`]);
  });
});
