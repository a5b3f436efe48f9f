import type { ChildProcess } from 'node:child_process';

/** Kills a child started with `detached: true` together with everything it started (its process group). */
export function killProcessGroup(child: ChildProcess): void {
  try {
    if (child.pid) process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
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

/** Kills the child's whole process group after `timeoutMs`, or when `signal` aborts. */
export function superviseChild(child: ChildProcess, timeoutMs: number, signal?: AbortSignal): Supervision {
  let timedOut = false;
  let aborted = false;
  const kill = () => killProcessGroup(child);
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, timeoutMs);
  const onAbort = () => {
    aborted = true;
    kill();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) onAbort(); // an already-aborted signal never fires 'abort' again
  return {
    get timedOut() {
      return timedOut;
    },
    get aborted() {
      return aborted;
    },
    kill,
    stop() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    },
    failure(code, exitSignal) {
      if (timedOut) return `timed out after ${Math.round(timeoutMs / 1000)} s`;
      if (aborted) return 'was cancelled';
      return exitSignal ? `was killed by ${exitSignal}` : `exited with code ${code}`;
    },
  };
}
