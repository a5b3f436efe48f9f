import { createHash } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';

/** True while a process with this pid exists (EPERM: it does, owned by another user). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A name for a process that stays unambiguous in a directory shared across machines or containers:
 * `p<pid>-<machine>`, where `<machine>` digests this boot (boot_id) and this pid namespace, so pid 57
 * of another host or container is never mistaken for our pid 57. Undefined where /proc tells neither
 * (not Linux): such files can only be judged by age.
 */
export function processTag(pid: number = process.pid): string | undefined {
  const machine = machineId();
  return machine === undefined ? undefined : `p${pid}-${machine}`;
}

/** The tag's process: 'gone' only when it ran here (this boot, this pid namespace) and no longer runs; any other text is 'elsewhere'. */
export function taggedProcessState(tag: string): 'alive' | 'gone' | 'elsewhere' {
  const match = /^p(\d+)-([0-9a-f]{12})$/.exec(tag);
  if (!match || match[2] !== machineId()) return 'elsewhere';
  return isProcessAlive(Number(match[1])) ? 'alive' : 'gone';
}

let machine: string | null | undefined;
function machineId(): string | undefined {
  if (machine === undefined) {
    try {
      const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
      const pidNamespace = readlinkSync('/proc/self/ns/pid');
      machine = createHash('sha256').update(`${boot}\n${pidNamespace}`).digest('hex').slice(0, 12);
    } catch {
      machine = null;
    }
  }
  return machine ?? undefined;
}
