import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { CommandError, ToolError } from '../errors';
import { redact, redactUrlCredentials } from './redact';
import { superviseChild } from './supervise';

export type OutputStream = 'stdout' | 'stderr';

export interface RunOptions {
  /** Working directory; always explicit. */
  cwd: string;
  /** The complete environment of the child; always explicit (nothing is inherited implicitly). */
  env: Record<string, string | undefined>;
  /** Milliseconds before the child (and its process group) is killed. */
  timeoutMs: number;
  /** Called for every complete output line while the child runs (progress streaming). */
  onLine?: (line: string, stream: OutputStream) => void;
  /** Text written to the child's stdin. */
  input?: string;
  signal?: AbortSignal;
  /** Values that must never appear in an error message (tokens, passwords). */
  secrets?: readonly string[];
  /** Resolve instead of throwing when the exit code is not 0. */
  allowFailure?: boolean;
  /** Called with the child's pid once it runs; the child leads its own process group (pgid = pid). */
  onSpawn?: (pid: number) => void;
}

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Cap on captured output per stream; beyond it only the tail is kept (a build log can be huge). */
const CAPTURE_LIMIT = 8 * 1024 * 1024;
const TAIL_LINES = 40;

class StreamCapture {
  private text = '';
  private partial = '';
  /** The last chunk ended in "\r": a "\n" starting the next one is the rest of that CRLF, not an empty line. */
  private afterCR = false;
  constructor(
    private readonly stream: OutputStream,
    private readonly onLine?: RunOptions['onLine'],
  ) {}
  push(chunk: string): void {
    this.text += chunk;
    if (this.text.length > CAPTURE_LIMIT) this.text = this.text.slice(this.text.length - CAPTURE_LIMIT / 2);
    if (!this.onLine) return;
    const data = this.afterCR && chunk.startsWith('\n') ? chunk.slice(1) : chunk;
    this.afterCR = chunk.endsWith('\r');
    const lines = (this.partial + data).split(/\r?\n|\r/);
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.onLine(line, this.stream);
  }
  end(): string {
    if (this.onLine && this.partial) this.onLine(this.partial, this.stream);
    this.partial = '';
    return this.text;
  }
}

/** One word as a POSIX shell reads it: as it is when it needs no quoting, else in single quotes. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export function formatCommand(command: string, args: readonly string[]): string {
  return [command, ...args].map(shellQuote).join(' ');
}

/**
 * Runs a program (no shell) with an explicit cwd, env and timeout, streaming its output line by line.
 * Throws CommandError (with the output's tail, secrets redacted) when it fails, ToolError when the
 * program does not exist.
 */
export function run(command: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  // Commands and their output may carry URLs with credentials (pip --index-url, git clone): masked in errors.
  const printable = redactUrlCredentials(redact(formatCommand(command, args), options.secrets));
  return new Promise<RunResult>((resolve, reject) => {
    const env = Object.fromEntries(Object.entries(options.env).filter((e): e is [string, string] => e[1] !== undefined));
    const child = spawn(command, args, {
      cwd: options.cwd,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true, // own process group, so a timeout kills the whole tree (cmake -> ninja -> cc)
    });
    const out = new StreamCapture('stdout', options.onLine);
    const err = new StreamCapture('stderr', options.onLine);
    const supervision = superviseChild(child, options.timeoutMs, options.signal);
    child.stdout.setEncoding('utf8').on('data', (c: string) => out.push(c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => err.push(c));
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
    if (child.pid !== undefined) options.onSpawn?.(child.pid);
    child.on('error', (e: NodeJS.ErrnoException) => {
      supervision.stop();
      if (e.code === 'ENOENT' && !existsSync(options.cwd)) {
        // spawn reports a missing cwd as ENOENT too: do not blame the program.
        reject(new CommandError(`Cannot run ${printable}: the working directory ${options.cwd} does not exist.`, printable, null, '', { cause: e }));
      } else if (e.code === 'ENOENT') {
        reject(new ToolError(`Cannot run ${command}: not found (cwd ${options.cwd}, PATH ${env.PATH ?? '(unset)'}).`, { cause: e }));
      } else {
        reject(new CommandError(`Cannot run ${printable}: ${e.message}`, printable, null, '', { cause: e }));
      }
    });
    child.on('close', (code, signal) => {
      supervision.stop();
      const stdout = out.end();
      const stderr = err.end();
      const exitCode = code ?? 128;
      const interrupted = supervision.timedOut || supervision.aborted;
      if (exitCode === 0 && !interrupted) return resolve({ exitCode, stdout, stderr });
      if (options.allowFailure && !interrupted) return resolve({ exitCode, stdout, stderr });
      const tail = redactUrlCredentials(redact(tailLines(`${stdout}\n${stderr}`, TAIL_LINES), options.secrets));
      reject(new CommandError(`Command ${supervision.failure(exitCode, signal)} (cwd ${options.cwd}): ${printable}\n${tail}`, printable, code, tail));
    });
  });
}

function tailLines(text: string, n: number): string {
  return text.trim().split(/\r?\n/).slice(-n).join('\n');
}
