import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../test-support/temp';
import { VllmWheelsError } from '../errors';
import { replaceDirAtomic, withLock, writeFileAtomic } from './index';
import { rejection } from '../../test-support/rejection';


const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The pid of a process that has exited (and been reaped): it does not exist any more. */
function deadPid(): number {
  const { pid } = spawnSync('true');
  expect(() => process.kill(pid as number, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
  return pid as number;
}

describe('writeFileAtomic', () => {
  it('writes a new file (creating the parent dirs) and replaces an existing one, leaving no temp file', () => {
    const dir = tempDir('atomic');
    const target = join(dir, 'a', 'b', 'state.json');
    writeFileAtomic(target, '{"v":1}');
    expect(readFileSync(target, 'utf8')).toBe('{"v":1}');
    writeFileAtomic(target, Buffer.from('{"v":2}'));
    expect(readFileSync(target, 'utf8')).toBe('{"v":2}');
    expect(readdirSync(join(dir, 'a', 'b'))).toEqual(['state.json']);
  });

  it('removes its temp file when the rename fails, and leaves the target alone', () => {
    const dir = tempDir('atomic');
    const target = join(dir, 'taken');
    mkdirSync(target);
    writeFileSync(join(target, 'inside'), 'keep');
    expect(() => writeFileAtomic(target, 'data')).toThrow(expect.objectContaining({ code: expect.stringMatching(/^(EISDIR|ENOTEMPTY|EEXIST)$/) }));
    expect(readdirSync(dir)).toEqual(['taken']);
    expect(readFileSync(join(target, 'inside'), 'utf8')).toBe('keep');
  });
});

describe('replaceDirAtomic', () => {
  function populated(): { dir: string; target: string } {
    const dir = tempDir('replace');
    const target = join(dir, 'out');
    mkdirSync(target);
    writeFileSync(join(target, 'old.whl'), 'old');
    return { dir, target };
  }

  it('keeps the old directory as it was when fill throws, and removes the half-filled temp dir', async () => {
    const { dir, target } = populated();
    let tmpSeen = '';
    const error = await rejection(
      replaceDirAtomic(target, async (tmp) => {
        tmpSeen = tmp;
        writeFileSync(join(tmp, 'new.whl'), 'half');
        throw new Error('build failed');
      }),
    );
    expect((error as Error).message).toBe('build failed');
    expect(tmpSeen).not.toBe(target);
    expect(readdirSync(target)).toEqual(['old.whl']);
    expect(readdirSync(dir)).toEqual(['out']);
  });

  it('swaps in the new contents when fill succeeds, leaving nothing of the old beside it', async () => {
    const { dir, target } = populated();
    await replaceDirAtomic(target, async (tmp) => {
      // While filling, the old directory is still complete.
      expect(readdirSync(target)).toEqual(['old.whl']);
      writeFileSync(join(tmp, 'new.whl'), 'new');
    });
    expect(readdirSync(target)).toEqual(['new.whl']);
    expect(readFileSync(join(target, 'new.whl'), 'utf8')).toBe('new');
    expect(readdirSync(dir)).toEqual(['out']);
  });

  it("first removes the temp dirs a killed run left beside it, but never a live process's or another target's", async () => {
    const { dir, target } = populated();
    const dead = `.out.tmp-${deadPid()}-0123abcd`;
    const live = `.out.tmp-${process.ppid}-89abcdef`;
    const other = `.other.tmp-${deadPid()}-0123abcd`;
    for (const name of [dead, live, other]) {
      mkdirSync(join(dir, name));
      writeFileSync(join(dir, name, 'half.whl'), 'half');
    }
    await replaceDirAtomic(target, async (tmp) => writeFileSync(join(tmp, 'new.whl'), 'new'));
    expect(readdirSync(dir).sort()).toEqual([live, other, 'out'].sort());
    expect(readdirSync(target)).toEqual(['new.whl']);
  });

  it('creates the directory (and its parents) when it did not exist', async () => {
    const dir = tempDir('replace');
    const target = join(dir, 'dist', 'wheels', 'x');
    await replaceDirAtomic(target, async (tmp) => writeFileSync(join(tmp, 'a'), 'a'));
    expect(readdirSync(target)).toEqual(['a']);
    expect(readdirSync(join(dir, 'dist', 'wheels'))).toEqual(['x']);
  });
});

describe('withLock', () => {
  it('serializes two concurrent holders and tells the second one who holds the lock', async () => {
    const lockDir = join(tempDir('lock'), 'locks', 'x.lock');
    const events: string[] = [];
    const waits: (number | undefined)[] = [];
    const holder = (name: string) => async () => {
      events.push(`${name} start`);
      expect(readFileSync(join(lockDir, 'pid'), 'utf8')).toBe(String(process.pid));
      await sleep(300);
      events.push(`${name} end`);
      return name;
    };
    const first = withLock(lockDir, holder('a'));
    await sleep(20); // let the first take the lock
    const second = withLock(lockDir, holder('b'), { onWait: (pid) => waits.push(pid) });
    expect(await Promise.all([first, second])).toEqual(['a', 'b']);
    expect(events).toEqual(['a start', 'a end', 'b start', 'b end']);
    expect(waits).toEqual([process.pid]);
    expect(existsSync(lockDir)).toBe(false);
  });

  it('names the owner even when it catches the lock between the owner\'s mkdir and its pid write', async () => {
    const lockDir = join(tempDir('lock'), 'x.lock');
    mkdirSync(lockDir); // the owner has made the dir and not yet written its pid
    const waits: (number | undefined)[] = [];
    const waiter = withLock(lockDir, async () => 'ran', { onWait: (pid) => waits.push(pid) });
    await sleep(100);
    writeFileSync(join(lockDir, 'pid'), String(process.pid));
    await sleep(300);
    expect(waits).toEqual([process.pid]);
    rmSync(lockDir, { recursive: true });
    expect(await waiter).toBe('ran');
  });

  it('releases the lock when fn throws', async () => {
    const lockDir = join(tempDir('lock'), 'x.lock');
    const error = await rejection(
      withLock(lockDir, async () => {
        throw new Error('boom');
      }),
    );
    expect((error as Error).message).toBe('boom');
    expect(existsSync(lockDir)).toBe(false);
    expect(await withLock(lockDir, async () => 'again', { timeoutMs: 100 })).toBe('again');
  });

  it('takes over a lock whose owner process is dead, without waiting', async () => {
    const lockDir = join(tempDir('lock'), 'x.lock');
    mkdirSync(lockDir);
    writeFileSync(join(lockDir, 'pid'), String(deadPid()));
    const waits: (number | undefined)[] = [];
    const started = Date.now();
    const result = await withLock(
      lockDir,
      async () => {
        expect(readFileSync(join(lockDir, 'pid'), 'utf8')).toBe(String(process.pid));
        return 'ran';
      },
      { timeoutMs: 5_000, onWait: (pid) => waits.push(pid) },
    );
    expect(result).toBe('ran');
    expect(waits).toEqual([]);
    expect(Date.now() - started).toBeLessThan(4_000); // not the 5 s timeout: no waiting at all
    expect(existsSync(lockDir)).toBe(false);
  });

  it('takes over a lock left without a pid (owner died right after mkdir) once it is old, but not a fresh one', async () => {
    const dir = tempDir('lock');
    const old = join(dir, 'old.lock');
    mkdirSync(old);
    utimesSync(old, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    expect(await withLock(old, async () => 'ran', { timeoutMs: 2_000 })).toBe('ran');

    const fresh = join(dir, 'fresh.lock');
    mkdirSync(fresh);
    await expect(withLock(fresh, async () => 'ran', { timeoutMs: 500 })).rejects.toThrow(/Timed out waiting for lock/);
    expect(existsSync(fresh)).toBe(true);
  });

  it('lets exactly one of several waiters break a stale lock', async () => {
    const dir = tempDir('lock');
    const lockDir = join(dir, 'x.lock');
    mkdirSync(lockDir);
    writeFileSync(join(lockDir, 'pid'), String(deadPid()));
    let inside = 0;
    let maxInside = 0;
    const holder = () =>
      withLock(lockDir, async () => {
        maxInside = Math.max(maxInside, ++inside);
        await sleep(50);
        inside--;
      }, { timeoutMs: 10_000 });
    await Promise.all([holder(), holder(), holder()]);
    expect(maxInside).toBe(1);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('times out with a clear error when a live process keeps the lock, and leaves its lock alone', async () => {
    const lockDir = join(tempDir('lock'), 'x.lock');
    mkdirSync(lockDir);
    writeFileSync(join(lockDir, 'pid'), String(process.pid)); // alive: this very process
    let ran = false;
    const error = await rejection(
      withLock(
        lockDir,
        async () => {
          ran = true;
        },
        { timeoutMs: 300 },
      ),
    );
    expect(error).toBeInstanceOf(VllmWheelsError);
    expect((error as Error).message).toBe(`Timed out waiting for lock ${lockDir} (held by pid ${process.pid}).`);
    expect(ran).toBe(false);
    expect(readFileSync(join(lockDir, 'pid'), 'utf8')).toBe(String(process.pid));
  });
});
