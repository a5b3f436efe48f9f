import { chmodSync, existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../test-support/temp';
import { CommandError, ToolError } from '../errors';
import { formatCommand, redact, run, which, type OutputStream } from './index';
import { rejection } from '../../test-support/rejection';
import { isGone, waitUntil } from '../../test-support/processes';

/** A minimal explicit environment: only PATH, so nothing of the test runner's env reaches the child. */
const ENV = { PATH: process.env.PATH };


describe('run', () => {
  it('gives the child exactly the env it is passed: nothing inherited, undefined values left out', async () => {
    process.env.VLLM_WHEELS_TEST_LEAK = 'leaked';
    try {
      const { stdout } = await run('sh', ['-c', 'echo "leak=${VLLM_WHEELS_TEST_LEAK-unset} mine=${MINE-unset} dropped=${DROPPED-unset}"'], {
        cwd: tempDir('run'),
        env: { ...ENV, MINE: 'yes', DROPPED: undefined },
        timeoutMs: 10_000,
      });
      expect(stdout).toBe('leak=unset mine=yes dropped=unset\n');
    } finally {
      delete process.env.VLLM_WHEELS_TEST_LEAK;
    }
  });

  it('runs in the given cwd and feeds input to stdin', async () => {
    const dir = tempDir('run');
    const result = await run('sh', ['-c', 'pwd; cat'], { cwd: dir, env: ENV, timeoutMs: 10_000, input: 'from stdin\n' });
    expect(result).toEqual({ exitCode: 0, stdout: `${realpathSync(dir)}\nfrom stdin\n`, stderr: '' });
  });

  it('runs the program without a shell: arguments are passed verbatim', async () => {
    const { stdout } = await run('printf', ['%s|', '$HOME', 'a b', "it's"], { cwd: tempDir('run'), env: ENV, timeoutMs: 10_000 });
    expect(stdout).toBe("$HOME|a b|it's|");
  });

  it('kills the whole process group on timeout and returns promptly with CommandError', async () => {
    let grandchild: number | undefined;
    const started = Date.now();
    // The background sleep keeps stdout open: unless the whole group dies, "close" would wait 30 s.
    const error = await rejection(
      run('sh', ['-c', 'sleep 30 & echo $!; sleep 30'], {
        cwd: tempDir('run'),
        env: ENV,
        timeoutMs: 500,
        onLine: (line) => {
          grandchild ??= Number(line);
        },
      }),
    );
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(error).toBeInstanceOf(CommandError);
    expect((error as CommandError).message).toMatch(/^Command timed out after \d+ s \(cwd .*\): sh -c 'sleep 30 & echo \$!; sleep 30'/);
    expect(grandchild).toBeGreaterThan(0);
    expect(await waitUntil(() => isGone(grandchild as number), 2_000)).toBe(true);
  });

  it('also kills descendants that left its process group, as the commands ninja runs do', async () => {
    let escaped: number | undefined;
    const error = await rejection(
      run('sh', ['-c', `setsid sh -c 'echo $$; exec sleep 31 >/dev/null 2>&1' & sleep 30`], {
        cwd: tempDir('run'),
        env: ENV,
        timeoutMs: 1_000,
        onLine: (line) => {
          escaped ??= Number(line);
        },
      }),
    );
    expect(error).toBeInstanceOf(CommandError);
    expect(escaped).toBeGreaterThan(0);
    expect(readFileSync(`/proc/${escaped}/stat`, 'utf8')).toBeTruthy(); // it was its own session, not our group
    expect(await waitUntil(() => isGone(escaped as number), 2_000)).toBe(true);
  });

  it('a timeout is an error even with allowFailure', async () => {
    const error = await rejection(run('sleep', ['30'], { cwd: tempDir('run'), env: ENV, timeoutMs: 200, allowFailure: true }));
    expect(error).toBeInstanceOf(CommandError);
    expect((error as Error).message).toContain('timed out');
  });

  it('streams lines to onLine in order while the child runs, including \\r progress and a last line without newline', async () => {
    const dir = tempDir('run');
    const seen: [string, OutputStream][] = [];
    // The child blocks until onLine has seen "ready" (it creates the file the child waits for):
    // this only finishes if lines arrive while the child is still running.
    const script = [
      'echo ready',
      'while [ ! -f go ]; do sleep 0.02; done',
      'printf "progress 10%%\\rprogress 50%%\\rprogress 100%%\\n"',
      'echo "to stderr" >&2',
      'sleep 0.1',
      'printf "crlf line\\r\\n"',
      'printf "no newline at the end"',
    ].join('\n');
    const result = await run('sh', ['-c', script], {
      cwd: dir,
      env: ENV,
      timeoutMs: 10_000,
      onLine: (line, stream) => {
        seen.push([line, stream]);
        if (line === 'ready') writeFileSync(join(dir, 'go'), '');
      },
    });
    expect(seen).toEqual([
      ['ready', 'stdout'],
      ['progress 10%', 'stdout'],
      ['progress 50%', 'stdout'],
      ['progress 100%', 'stdout'],
      ['to stderr', 'stderr'],
      ['crlf line', 'stdout'],
      ['no newline at the end', 'stdout'],
    ]);
    expect(result.stdout).toBe('ready\nprogress 10%\rprogress 50%\rprogress 100%\ncrlf line\r\nno newline at the end');
    expect(result.stderr).toBe('to stderr\n');
  });

  it('does not invent an empty line when \\r and \\n of one CRLF arrive in different chunks', async () => {
    const seen: string[] = [];
    await run('sh', ['-c', 'printf "first\\r"; sleep 0.2; printf "\\nsecond\\n"'], {
      cwd: tempDir('run'),
      env: ENV,
      timeoutMs: 10_000,
      onLine: (line) => seen.push(line),
    });
    expect(seen).toEqual(['first', 'second']);
  });

  it('throws CommandError with the exit code and the output tail, secrets redacted', async () => {
    const secret = 'tok-3f9a1c7e';
    const script = `for i in $(seq 1 100); do echo "line $i"; done; echo "auth with $1" >&2; exit 3`;
    const error = await rejection(run('sh', ['-c', script, 'sh', secret], { cwd: tempDir('run'), env: ENV, timeoutMs: 10_000, secrets: [secret] }));
    expect(error).toBeInstanceOf(CommandError);
    const e = error as CommandError;
    expect(e.code).toBe(3);
    expect(e.exitCode).toBe(4);
    expect(e.message).toMatch(/^Command exited with code 3 \(cwd .*\): sh -c /);
    expect(e.message).toContain('auth with ***');
    expect(e.message).toContain('line 100');
    // Only the tail (40 lines) of stdout + stderr.
    expect(e.outputTail.split('\n').length).toBeLessThanOrEqual(40);
    expect(e.outputTail).toMatch(/^line 6\d\n/);
    expect(e.message).not.toMatch(/line (1|50)\n/);
    expect(e.command).toBe(`sh -c '${script.replace(/'/g, `'\\''`)}' sh ***`);
    expect(`${e.message}${e.command}${e.outputTail}`).not.toContain(secret);
  });

  it('resolves with the exit code and output when allowFailure is set', async () => {
    const result = await run('sh', ['-c', 'echo out; echo err >&2; exit 7'], { cwd: tempDir('run'), env: ENV, timeoutMs: 10_000, allowFailure: true });
    expect(result).toEqual({ exitCode: 7, stdout: 'out\n', stderr: 'err\n' });
  });

  it('reports a child killed by a signal', async () => {
    const error = await rejection(run('sh', ['-c', 'kill -TERM $$'], { cwd: tempDir('run'), env: ENV, timeoutMs: 10_000 }));
    expect(error).toBeInstanceOf(CommandError);
    expect((error as CommandError).message).toMatch(/^Command was killed by SIGTERM/);
  });

  it('throws ToolError when the program does not exist', async () => {
    const empty = tempDir('run-path');
    const cwd = tempDir('run');
    const error = await rejection(run('no-such-program-xyz', [], { cwd, env: { PATH: empty }, timeoutMs: 10_000 }));
    expect(error).toBeInstanceOf(ToolError);
    expect((error as ToolError).exitCode).toBe(3);
    expect((error as ToolError).message).toBe(`Cannot run no-such-program-xyz: not found (cwd ${cwd}, PATH ${empty}).`);
  });

  it('blames a missing cwd, not the program', async () => {
    const cwd = join(tempDir('run'), 'gone');
    const error = await rejection(run('sh', ['-c', 'true'], { cwd, env: ENV, timeoutMs: 10_000 }));
    expect(error).toBeInstanceOf(CommandError);
    expect((error as CommandError).message).toBe(`Cannot run sh -c true: the working directory ${cwd} does not exist.`);
  });

  it('cancels the child (and its group) when the AbortSignal fires', async () => {
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 200);
    const error = await rejection(run('sh', ['-c', 'sleep 30 & sleep 30'], { cwd: tempDir('run'), env: ENV, timeoutMs: 60_000, signal: controller.signal }));
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(error).toBeInstanceOf(CommandError);
    expect((error as CommandError).message).toMatch(/^Command was cancelled/);
  });

  it('does not run to completion when the signal is already aborted', async () => {
    const started = Date.now();
    const error = await rejection(run('sleep', ['30'], { cwd: tempDir('run'), env: ENV, timeoutMs: 60_000, signal: AbortSignal.abort() }));
    expect(Date.now() - started).toBeLessThan(5_000);
    expect((error as CommandError).message).toMatch(/^Command was cancelled/);
  });
});

describe('formatCommand', () => {
  it('quotes only what a shell would need quoted', () => {
    expect(formatCommand('git', ['clone', '--mirror', '--', 'https://host/x.git', '/tmp/a b'])).toBe("git clone --mirror -- https://host/x.git '/tmp/a b'");
    expect(formatCommand('sh', ['-c', "echo 'hi'"])).toBe(`sh -c 'echo '\\''hi'\\'''`);
  });
});

describe('redact', () => {
  it('replaces every occurrence of each secret of 4+ characters', () => {
    expect(redact('user:s3cr3t@host and again s3cr3t; tok', ['s3cr3t', 'tok', ''])).toBe('user:***@host and again ***; tok');
    expect(redact('nothing', undefined)).toBe('nothing');
  });
});

describe('which', () => {
  it('finds an executable on PATH, in PATH order', () => {
    const a = tempDir('which');
    const b = tempDir('which');
    for (const dir of [a, b]) {
      writeFileSync(join(dir, 'tool'), '#!/bin/sh\n');
      chmodSync(join(dir, 'tool'), 0o755);
    }
    expect(which('tool', { PATH: `${a}:${b}` })).toBe(join(a, 'tool'));
    expect(which('tool', { PATH: `${b}:${a}` })).toBe(join(b, 'tool'));
  });

  it('skips files that are not executable, and an unset or empty PATH finds nothing', () => {
    const a = tempDir('which');
    const b = tempDir('which');
    writeFileSync(join(a, 'tool'), '#!/bin/sh\n');
    chmodSync(join(a, 'tool'), 0o644);
    writeFileSync(join(b, 'tool'), '#!/bin/sh\n');
    chmodSync(join(b, 'tool'), 0o755);
    expect(which('tool', { PATH: `${a}:${b}` })).toBe(join(b, 'tool'));
    expect(which('tool', { PATH: a })).toBeUndefined();
    expect(which('sh', {})).toBeUndefined();
    expect(which('sh', { PATH: '' })).toBeUndefined();
  });

  it('takes a path with a slash as it is, ignoring PATH', () => {
    const a = tempDir('which');
    writeFileSync(join(a, 'tool'), '#!/bin/sh\n');
    chmodSync(join(a, 'tool'), 0o755);
    expect(which(join(a, 'tool'), {})).toBe(join(a, 'tool'));
    expect(which(join(a, 'missing'), { PATH: a })).toBeUndefined();
    expect(existsSync(join(a, 'tool'))).toBe(true);
  });
});
