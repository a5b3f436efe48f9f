import type { Logger } from '../log';
import { interruptChildren } from './supervise';

const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** The IPC channel to the process that forked this one (Nx runs each task in a forked process). */
export interface ParentChannel {
  readonly connected: boolean;
  once(event: 'disconnect', listener: () => void): unknown;
  off(event: 'disconnect', listener: () => void): unknown;
}

/**
 * Runs `work` so that an interrupt (Ctrl-C, Nx stopping the task) first stops every child it started —
 * they run in their own process groups, so without this a build would go on compiling after Ctrl-C —
 * then lets `work` unwind (which removes its temp dirs), then ends the process by the same signal.
 * The same happens when the process that forked this one dies (an `nx` killed with SIGKILL sends no
 * signal, but its task process sees the IPC channel close): the task must not outlive its runner.
 */
export async function stopChildrenOnInterrupt<T>(log: Logger, work: () => Promise<T>, parent: ParentChannel = process): Promise<T> {
  let received: NodeJS.Signals | undefined;
  let orphaned = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (!received) log.warn(`${signal}: stopping the running commands and cleaning up…`);
    received ??= signal;
    interruptChildren();
  };
  const onParentGone = () => {
    orphaned = true;
    log.warn('The nx process running this task is gone: stopping the running commands and cleaning up…');
    interruptChildren();
  };
  for (const signal of SIGNALS) process.on(signal, onSignal);
  if (parent.connected) parent.once('disconnect', onParentGone);
  try {
    return await work();
  } finally {
    for (const signal of SIGNALS) process.off(signal, onSignal);
    parent.off('disconnect', onParentGone);
    if (received) process.kill(process.pid, received);
    else if (orphaned) process.exit(1); // nobody is left to report to
  }
}
