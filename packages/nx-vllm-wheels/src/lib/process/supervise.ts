import type { ChildProcess } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * Kills a child started with `detached: true` together with everything it started. Its process group
 * is not enough: ninja runs each command in a process group of its own (so a killed ninja would leave
 * its compilers running), so the whole tree is frozen first (SIGSTOP: nothing can fork any more), then
 * killed.
 */
export function killProcessGroup(child: ChildProcess): void {
  if (!child.pid) {
    child.kill('SIGKILL');
    return;
  }
  const tree = new Set<number>([child.pid]);
  signalGroup(child.pid, 'SIGSTOP');
  for (let pass = 0; pass < 3; pass++) {
    const found = descendants(tree);
    if (found.length === 0) break;
    for (const pid of found) {
      tree.add(pid);
      signal(pid, 'SIGSTOP');
    }
  }
  signalGroup(child.pid, 'SIGKILL');
  for (const pid of tree) signal(pid, 'SIGKILL');
}

function signalGroup(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(-pid, name);
  } catch {
    signal(pid, name);
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

/** Pids whose parent is in `parents` and that are not in it yet (from /proc; none where there is no /proc). */
function descendants(parents: Set<number>): number[] {
  const found: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return found;
  }
  const known = new Set(parents);
  // A child's pid can be lower than its parent's: repeat until a pass finds nothing new.
  for (let grew = true; grew; ) {
    grew = false;
    for (const entry of entries) {
      if (!/^\d+$/.test(entry) || known.has(Number(entry))) continue;
      const parent = parentPid(entry);
      if (parent !== undefined && known.has(parent)) {
        known.add(Number(entry));
        found.push(Number(entry));
        grew = true;
      }
    }
  }
  return found;
}

function parentPid(pid: string): number | undefined {
  try {
    // "pid (comm) state ppid …": comm may contain spaces and parentheses, so read after the last ")".
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
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
