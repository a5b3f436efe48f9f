import type { Logger } from '../log';
import { interruptChildren } from './supervise';

const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Runs `work` so that an interrupt (Ctrl-C, Nx stopping the task) first stops every child it started —
 * they run in their own process groups, so without this a build would go on compiling after Ctrl-C —
 * then lets `work` unwind (which removes its temp dirs), then ends the process by the same signal.
 */
export async function stopChildrenOnInterrupt<T>(log: Logger, work: () => Promise<T>): Promise<T> {
  let received: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (!received) log.warn(`${signal}: stopping the running commands and cleaning up…`);
    received ??= signal;
    interruptChildren();
  };
  for (const signal of SIGNALS) process.on(signal, onSignal);
  try {
    return await work();
  } finally {
    for (const signal of SIGNALS) process.off(signal, onSignal);
    if (received) process.kill(process.pid, received);
  }
}
