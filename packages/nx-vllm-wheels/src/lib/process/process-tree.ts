import { readdirSync, readFileSync } from 'node:fs';

/** A process as /proc/<pid>/stat describes it (only what this module needs). */
interface ProcStat {
  /** Exited, not yet reaped by its parent: it runs nothing. */
  zombie: boolean;
  ppid: number;
  pgid: number;
  /** Clock ticks after boot: with the pid, it names one process (pids are reused, start times are not). */
  startTime: string;
}

function procStat(pid: number | string): ProcStat | undefined {
  try {
    // "pid (comm) state ppid pgrp …": comm may contain spaces and parentheses, so read after the last ")".
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { zombie: fields[0] === 'Z', ppid: Number(fields[1]), pgid: Number(fields[2]), startTime: fields[19] };
  } catch {
    return undefined;
  }
}

function allPids(): number[] {
  try {
    return readdirSync('/proc')
      .filter((e) => /^\d+$/.test(e))
      .map(Number);
  } catch {
    return []; // no /proc: only the group itself can be signalled
  }
}

/** When the process `pid` started (see ProcStat.startTime); undefined when it is gone. */
export function processStartTime(pid: number): string | undefined {
  return procStat(pid)?.startTime;
}

/** Live processes of the process group `pgid`, and everything they started (whatever group it is in). */
export function processGroupTree(pgid: number): number[] {
  const stats = new Map<number, ProcStat>();
  for (const pid of allPids()) {
    const s = procStat(pid);
    if (s && !s.zombie) stats.set(pid, s);
  }
  const tree = new Set<number>();
  for (const [pid, s] of stats) if (s.pgid === pgid) tree.add(pid);
  // A child's pid can be lower than its parent's: repeat until a pass finds nothing new.
  for (let grew = tree.size > 0; grew; ) {
    grew = false;
    for (const [pid, s] of stats) {
      if (!tree.has(pid) && tree.has(s.ppid)) {
        tree.add(pid);
        grew = true;
      }
    }
  }
  return [...tree];
}

/**
 * Kills the process group `pgid` together with everything its members started. The group is not enough:
 * ninja runs each command in a process group of its own (so a killed ninja would leave its compilers
 * running), and a member whose parent died is re-parented but stays in the group. So the whole tree is
 * frozen first (SIGSTOP: nothing can fork any more), then killed. Returns the pids it signalled.
 */
export function killProcessGroupTree(pgid: number): number[] {
  signalGroup(pgid, 'SIGSTOP');
  const tree = new Set<number>();
  for (let pass = 0; pass < 3; pass++) {
    const found = processGroupTree(pgid).filter((pid) => !tree.has(pid));
    if (found.length === 0) break;
    for (const pid of found) {
      tree.add(pid);
      signal(pid, 'SIGSTOP');
    }
  }
  signalGroup(pgid, 'SIGKILL');
  for (const pid of tree) signal(pid, 'SIGKILL');
  return [...tree];
}

function signalGroup(pgid: number, name: NodeJS.Signals): void {
  try {
    process.kill(-pgid, name);
  } catch {
    signal(pgid, name);
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}
