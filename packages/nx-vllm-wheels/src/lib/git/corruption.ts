import { run } from '../process';
import { gitEnv } from './client';

/**
 * What git prints when an object it needs is missing or damaged: a deleted loose object, a truncated
 * or bit-flipped pack, an object a fetch was promised but did not get. Only a hint: `git fsck` decides.
 */
const CORRUPTION = [
  /unable to read sha1 file/i,
  /\bmissing (blob|tree|commit|tag)\b/i,
  /\bbad object\b/i,
  /\bcorrupt/i,
  /\bpackfile \S+ (cannot be accessed|does not match index)/i,
  /did not receive expected object/i,
  /inflate: data stream error/i,
  /unable to read tree\b/i,
  /\bobject file \S+ is empty/i,
  /invalid sha1 pointer/i,
  /bad packed object CRC/i,
  /broken link from/i,
];

/** True when a git error message says that an object is missing or damaged. */
export function reportsCorruption(message: string): boolean {
  return CORRUPTION.some((pattern) => pattern.test(message));
}

const SHOWN_PROBLEMS = 3;

/**
 * Runs `git fsck` on a repository: undefined when it is sound, else the first few distinct problems
 * it names (a truncated pack repeats the same line for every object).
 */
export async function fsckProblems(repoDir: string, env: Record<string, string | undefined>, timeoutMs: number): Promise<string | undefined> {
  const result = await run('git', ['fsck', '--no-dangling', '--no-progress'], { cwd: repoDir, env: gitEnv(env), timeoutMs, allowFailure: true });
  if (result.exitCode === 0) return undefined;
  const problems = [
    ...new Set(
      `${result.stdout}\n${result.stderr}`
        .split('\n')
        .map((line) => line.trim().replace(/\s+/g, ' '))
        .filter((line) => /^(error|fatal|missing|bad|corrupt)\b/i.test(line))
        .map((line) => line.replace(/^error: /i, '')),
    ),
  ];
  if (problems.length === 0) return `git fsck exited with ${result.exitCode}`;
  return problems.slice(0, SHOWN_PROBLEMS).join('; ') + (problems.length > SHOWN_PROBLEMS ? '; …' : '');
}
