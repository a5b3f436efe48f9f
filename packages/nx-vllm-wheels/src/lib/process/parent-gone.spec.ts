import { EventEmitter } from 'node:events';
import { recordingLogger } from '../log';
import { tempDir } from '../../test-support/temp';
import { rejection } from '../../test-support/rejection';
import { interruptSignal, run, stopChildrenOnInterrupt, type ParentChannel } from './index';

/** A stand-in for the IPC channel to nx. */
class FakeChannel extends EventEmitter implements ParentChannel {
  connected = true;
}

// interruptChildren is once per process: this file has a module registry (and so an interrupt) of its own.
describe('stopChildrenOnInterrupt when the process that runs the task dies', () => {
  it('stops the running commands, says why, and ends the task process once the work has unwound', async () => {
    const exit = jest.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    try {
      const channel = new FakeChannel();
      const log = recordingLogger();
      const env = { PATH: process.env.PATH };
      const work = stopChildrenOnInterrupt(log, () => run('sleep', ['30'], { cwd: tempDir('parent-gone'), env, timeoutMs: 60_000 }), channel);
      await new Promise((r) => setTimeout(r, 200));
      expect(interruptSignal.aborted).toBe(false);
      channel.connected = false;
      channel.emit('disconnect');
      expect((await rejection(work)) as Error).toMatchObject({ message: expect.stringMatching(/^Command was stopped \(this process was interrupted\)/) });
      expect(interruptSignal.aborted).toBe(true);
      expect(log.lines).toEqual(['WARNING: The nx process running this task is gone: stopping the running commands and cleaning up…']);
      expect(exit).toHaveBeenCalledWith(1);
      expect(channel.listenerCount('disconnect')).toBe(0);
    } finally {
      exit.mockRestore();
    }
  });
});
