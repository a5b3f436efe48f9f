import type { ChildProcess } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { killProcessGroupTree } from './process-tree';

/**
 * Kills a child started with `detached: true` (so it leads its own process group) together with
 * everything it started (see killProcessGroupTree).
 */
export function killProcessGroup(child: ChildProcess): void {
  if (child.pid) killProcessGroupTree(child.pid);
  else child.kill('SIGKILL');
}

export interface Supervision {
  readonly timedOut: boolean;
  readonly aborted: boolean;
  /** Kills the child's process group now (e.g. its output cannot be parsed). */
  kill(): void;
  /** Call once the child has exited or failed to start: clears the timer and the abort listener. */
  stop(): void;
  /** Why a run that did not succeed ended, for an error message ("timed out after 60 s", …). */
  failure(code: number | null, signal: NodeJS.Signals | null): string;
}

/**
 * Every supervised child runs in its own process group, so a terminal's Ctrl-C never reaches it: when
 * this process is interrupted, `interruptChildren` stops them all (and any started afterwards).
 */
const interruption = new AbortController();
// One listener per running child (and per git command): many at once is expected, not a leak.
setMaxListeners(Number.POSITIVE_INFINITY, interruption.signal);

/** Aborted once this process has been interrupted (for clients that take an AbortSignal, like simple-git). */
export const interruptSignal: AbortSignal = interruption.signal;

/** Kills the process group of every supervised child, now and from now on. */
export function interruptChildren(): void {
  if (!interruption.signal.aborted) interruption.abort();
}

/** Kills the child's whole process group after `timeoutMs`, when `signal` aborts, or when this process is interrupted. */
export function superviseChild(child: ChildProcess, timeoutMs: number, signal?: AbortSignal): Supervision {
  let timedOut = false;
  let aborted = false;
  let interrupted = false;
  const kill = () => killProcessGroup(child);
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, timeoutMs);
  const onAbort = () => {
    aborted = true;
    kill();
  };
  const onInterrupt = () => {
    interrupted = true;
    kill();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  interruption.signal.addEventListener('abort', onInterrupt, { once: true });
  if (signal?.aborted) onAbort(); // an already-aborted signal never fires 'abort' again
  if (interruption.signal.aborted) onInterrupt();
  return {
    get timedOut() {
      return timedOut;
    },
    get aborted() {
      return aborted || interrupted;
    },
    kill,
    stop() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      interruption.signal.removeEventListener('abort', onInterrupt);
    },
    failure(code, exitSignal) {
      if (timedOut) return `timed out after ${Math.round(timeoutMs / 1000)} s`;
      if (interrupted) return 'was stopped (this process was interrupted)';
      if (aborted) return 'was cancelled';
      return exitSignal ? `was killed by ${exitSignal}` : `exited with code ${code}`;
    },
  };
}
