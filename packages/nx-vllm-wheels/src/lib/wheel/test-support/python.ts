import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { run, type RunResult } from '../../process';
import { hashBytes, formatHash } from '../record';

const TEST_ENV = { ...process.env, LANG: 'C.UTF-8', PIP_DISABLE_PIP_VERSION_CHECK: '1', PYTHONDONTWRITEBYTECODE: '1' };

/** Runs a Python interpreter (python3 by default) with `args`; `input` is sent as JSON on stdin. */
export function runPython(args: string[], options: { cwd: string; input?: unknown; interpreter?: string; timeoutMs?: number; allowFailure?: boolean }): Promise<RunResult> {
  return run(options.interpreter ?? 'python3', args, {
    cwd: options.cwd,
    env: TEST_ENV,
    timeoutMs: options.timeoutMs ?? 120_000,
    input: options.input === undefined ? undefined : JSON.stringify(options.input),
    allowFailure: options.allowFailure,
  });
}

/** Runs a Python script given inline (`python -c script args…`). */
export function python(script: string, options: Parameters<typeof runPython>[1] & { args?: string[] }): Promise<RunResult> {
  return runPython(['-c', script, ...(options.args ?? [])], options);
}

export interface Member {
  name: string;
  data: string | Buffer;
  /** Unix permission bits (regular file implied), or a whole st_mode with its type (0o120777: a symlink); default 0o644. */
  mode?: number;
  /** Default true. */
  deflate?: boolean;
  /** Extra fields, written by zipfile in both the local header and the central directory. */
  extra?: Buffer;
}

/** Writes a zip with Python's zipfile, members in the given order, all dated 2024-01-02 03:04:06. */
export async function writeZipWithPython(path: string, members: readonly Member[]): Promise<void> {
  const script = `
import base64, json, sys, warnings, zipfile
warnings.simplefilter("ignore")  # duplicate names are written on purpose by some tests
spec = json.load(sys.stdin)
with zipfile.ZipFile(spec["path"], "w") as z:
    for m in spec["members"]:
        zi = zipfile.ZipInfo(m["name"], date_time=(2024, 1, 2, 3, 4, 6))
        zi.compress_type = zipfile.ZIP_DEFLATED if m["deflate"] else zipfile.ZIP_STORED
        zi.external_attr = (m["mode"] if m["mode"] >> 12 else 0o100000 | m["mode"]) << 16
        zi.extra = base64.b64decode(m["extra"])
        z.writestr(zi, base64.b64decode(m["data"]))
`;
  const input = {
    path,
    members: members.map((m) => ({ name: m.name, data: Buffer.from(m.data).toString('base64'), mode: m.mode ?? 0o644, deflate: m.deflate ?? true, extra: (m.extra ?? Buffer.alloc(0)).toString('base64') })),
  };
  await python(script, { cwd: process.cwd(), input });
}

/** The RECORD text for members (every one hashed) plus RECORD's own empty row, as bdist_wheel writes it. */
export function recordFor(members: readonly Member[], recordPath: string): string {
  const rows = members.map((m) => {
    const data = Buffer.from(m.data);
    return `${m.name},${formatHash(hashBytes(data))},${data.length}\n`;
  });
  return rows.join('') + `${recordPath},,\n`;
}

export const FIXTURE_METADATA = [
  'Metadata-Version: 2.1',
  'Name: vllm',
  'Version: 0.9.0+cpu',
  'Summary: A high-throughput and memory-efficient inference and serving engine for LLMs',
  'Home-page: https://github.com/vllm-project/vllm',
  'Author: vLLM Team',
  'License: Apache 2.0',
  'Project-URL: Homepage, https://github.com/vllm-project/vllm',
  'Project-URL: Documentation, https://docs.vllm.ai/en/latest/',
  'Classifier: Programming Language :: Python :: 3.11',
  'Classifier: License :: OSI Approved :: Apache Software License',
  'Requires-Python: >=3.8',
  'Description-Content-Type: text/markdown',
  'License-File: LICENSE',
  'Requires-Dist: numpy; extra == "never"',
  'Provides-Extra: never',
  '',
  '# vLLM',
  '',
  'Easy, fast, and cheap LLM serving for everyone.',
  '',
].join('\n');

/**
 * The members of a small vllm-shaped wheel `vllm-0.9.0+cpu-py3-none-any.whl` (pure, so pip installs it
 * anywhere): a package, a "binary" extension stored uncompressed with mode 755, a .data script, entry
 * points, and RECORD listing everything.
 */
export function fixtureMembers(overrides: { metadata?: string | null; extra?: Member[] } = {}): Member[] {
  const di = 'vllm-0.9.0+cpu.dist-info';
  const members: Member[] = [
    { name: 'vllm/__init__.py', data: '__version__ = "0.9.0"\n\ndef hello():\n    return "hello from vllm"\n' },
    { name: 'vllm/cli.py', data: 'import vllm\n\ndef main():\n    print(vllm.hello())\n' },
    { name: 'vllm/platforms/__init__.py', data: 'CPU = True\n' },
    { name: 'vllm/_C.abi3.so', data: Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251)), mode: 0o755, deflate: false },
    { name: 'vllm-0.9.0+cpu.data/scripts/vllm-hello', data: '#!python\nimport vllm\nprint(vllm.hello())\n', mode: 0o755 },
    ...(overrides.extra ?? []),
    ...(overrides.metadata === null ? [] : [{ name: `${di}/METADATA`, data: overrides.metadata ?? FIXTURE_METADATA }]),
    { name: `${di}/WHEEL`, data: 'Wheel-Version: 1.0\nGenerator: bdist_wheel (0.43.0)\nRoot-Is-Purelib: true\nTag: py3-none-any\n\n' },
    { name: `${di}/entry_points.txt`, data: '[console_scripts]\nvllm = vllm.cli:main\n' },
    { name: `${di}/top_level.txt`, data: 'vllm\n' },
    { name: `${di}/licenses/LICENSE`, data: 'Apache License 2.0\n' },
  ];
  return [...members, { name: `${di}/RECORD`, data: recordFor(members, `${di}/RECORD`) }];
}

export const FIXTURE_FILE_NAME = 'vllm-0.9.0+cpu-py3-none-any.whl';

/** Writes the fixture wheel (possibly altered) into `dir` with Python's zipfile; returns its path. */
export async function writeFixtureWheel(dir: string, members: readonly Member[] = fixtureMembers(), fileName = FIXTURE_FILE_NAME): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, fileName);
  await writeZipWithPython(path, members);
  return path;
}

/** A venv in `dir` with `wheel` from PyPI (for `python -m wheel unpack`, which checks RECORD); returns its python. */
export async function createVenv(dir: string): Promise<string> {
  await runPython(['-m', 'venv', join(dir, 'venv')], { cwd: dir, timeoutMs: 180_000 });
  const py = join(dir, 'venv', 'bin', 'python');
  await runPython(['-m', 'pip', 'install', '--quiet', 'wheel'], { cwd: dir, interpreter: py, timeoutMs: 300_000 });
  return py;
}
