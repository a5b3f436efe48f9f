import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { cleanEnv } from './workspace';

export interface PypiServer {
  child: ChildProcess;
  url: string;
  port: number;
  packagesDir: string;
  /** Everything the server printed (its request log). */
  log(): string;
  /** Uploads it received ("POST / " request lines). */
  uploads(): number;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** An htpasswd file with one user (passlib reads the `{SHA}` scheme). */
export function writeHtpasswd(file: string, user: string, password: string): string {
  writeFileSync(file, `${user}:{SHA}${createHash('sha1').update(password).digest('base64')}\n`);
  return file;
}

/** The TCP port a process listens on, from /proc: its socket inodes matched in /proc/<pid>/net/tcp. */
function listeningPort(pid: number): number | undefined {
  let inodes: Set<string>;
  try {
    inodes = new Set(
      readdirSync(`/proc/${pid}/fd`)
        .map((fd) => {
          try {
            return /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
          } catch {
            return undefined;
          }
        })
        .filter((x): x is string => !!x),
    );
  } catch {
    return undefined;
  }
  for (const line of readFileSync(`/proc/${pid}/net/tcp`, 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[3] === '0A' && inodes.has(f[9])) return parseInt(f[1].split(':')[1], 16);
  }
  return undefined;
}

/**
 * pypiserver on 127.0.0.1 serving (and receiving uploads into) `packagesDir`; uploads need the htpasswd
 * user (with `privateIndex`, reading the index and downloading do too), nothing falls back to a public
 * index. Port 0 picks a free one (found in /proc: pypiserver prints the port it was given, not the one
 * it got); resolves once /health answers.
 */
export async function startPypiServer(pypiServer: string, packagesDir: string, htpasswd: string, port = 0, privateIndex = false): Promise<PypiServer> {
  const authenticated = privateIndex ? 'update,download,list' : 'update';
  const args = ['run', '-i', '127.0.0.1', '-p', String(port), '-P', htpasswd, '-a', authenticated, '--disable-fallback', '--health-endpoint', '/health', '-v', packagesDir];
  const child = spawn(pypiServer, args, { env: cleanEnv() as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (c) => (log += c));
  child.stderr!.on('data', (c) => (log += c));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const deadline = Date.now() + 60_000;
  let bound = port || undefined;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`pypi-server exited (${child.exitCode}):\n${log}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`pypi-server did not answer /health within 60 s:\n${log}`);
    }
    bound ??= listeningPort(child.pid!);
    if (bound) {
      const ok = await fetch(`http://127.0.0.1:${bound}/health`).then((r) => r.ok, () => false);
      if (ok) break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    url: `http://127.0.0.1:${bound}/`,
    port: bound!,
    packagesDir,
    log: () => log,
    uploads: () => (log.match(/"POST \/ HTTP/g) ?? []).length,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(kill);
    },
  };
}
