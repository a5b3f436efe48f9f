import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './paths';

/** The CLI as published: `bin` of packages/nx-vllm-wheels, compiled. */
export const CLI = join(REPO_ROOT, 'packages/nx-vllm-wheels/dist/cli/main.js');

export interface CliServer {
  child: ChildProcess;
  pid: number;
  url: string;
  port: number;
  stdout(): string;
  stderr(): string;
  /** Peak resident memory of the server process so far (VmHWM of /proc/<pid>/status), in bytes. */
  peakRss(): number;
  /** Sends `signal` and waits (bounded) for the exit; returns the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to completion (for commands that refuse to start); killed after 30 s. */
export function runCli(args: string[], env: Record<string, string | undefined>): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** How the CLI is started: the command and its leading arguments (default: node on the compiled main.js). */
export interface CliLauncher {
  command: string;
  args: string[];
  cwd?: string;
}

/**
 * `nx-vllm-wheels cache-server …` as its own process (port 0: it picks a free one and prints it).
 * Resolves once it listens; rejects with its output if it exits first or takes over 60 s. With a
 * launcher such as npx, `child` is the launcher's process, not necessarily the server's.
 */
export function startCliServer(args: string[], env: Record<string, string | undefined>, launcher: CliLauncher = { command: process.execPath, args: [CLI] }): Promise<CliServer> {
  const child = spawn(launcher.command, [...launcher.args, 'cache-server', ...args], { cwd: launcher.cwd, env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c) => (stdout += c));
  child.stderr!.on('data', (c) => (stderr += c));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`cache-server did not start within 60 s:\n${stdout}\n${stderr}`));
    }, 60_000);
    const onData = () => {
      const m = /listening on (http:\/\/[^\s]+:(\d+)) /.exec(stdout);
      if (!m) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      resolve({
        child,
        pid: child.pid!,
        url: m[1],
        port: Number(m[2]),
        stdout: () => stdout,
        stderr: () => stderr,
        peakRss: () => {
          const kb = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
          if (!kb) throw new Error(`no VmHWM in /proc/${child.pid}/status`);
          return Number(kb[1]) * 1024;
        },
        stop: async (signal = 'SIGTERM') => {
          if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
          child.kill(signal);
          const kill = setTimeout(() => child.kill('SIGKILL'), 20_000);
          const code = await exited;
          clearTimeout(kill);
          return code;
        },
      });
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`cache-server exited (${code}) before listening:\n${stdout}\n${stderr}`));
    });
  });
}
