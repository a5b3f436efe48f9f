import { getMaxListeners } from 'node:events';
import { tempDir } from '../../test-support/temp';
import { rejection } from '../../test-support/rejection';
import { CommandError } from '../errors';
import { interruptChildren, interruptSignal, run } from './index';

// interruptChildren is once per process (Jest gives each spec file its own module registry).
describe('interruptChildren', () => {
  it('takes any number of running children without a listener-leak warning', () => {
    // Each running child listens on the signal; Node warns past 10 unless the limit is lifted.
    expect(getMaxListeners(interruptSignal)).toBe(Number.POSITIVE_INFINITY);
  });

  it('stops every running child, says why, and stops any started afterwards at once', async () => {
    const env = { PATH: process.env.PATH };
    const started = Date.now();
    const running = Array.from({ length: 12 }, () => rejection(run('sleep', ['30'], { cwd: tempDir('interrupt'), env, timeoutMs: 60_000 })));
    await new Promise((r) => setTimeout(r, 200));
    expect(interruptSignal.aborted).toBe(false);
    interruptChildren();
    expect(interruptSignal.aborted).toBe(true);
    for (const error of await Promise.all(running)) {
      expect(error).toBeInstanceOf(CommandError);
      expect((error as Error).message).toMatch(/^Command was stopped \(this process was interrupted\)/);
    }
    const later = await rejection(run('sleep', ['30'], { cwd: tempDir('interrupt'), env, timeoutMs: 60_000 }));
    expect((later as Error).message).toMatch(/^Command was stopped/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
