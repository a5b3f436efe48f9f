import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTorchIndex } from '../../../../../tools/fixtures/index.js';
import { runDockerfileInVenv } from '../../test-support/dockerfile-in-venv';
import { tempDir } from '../../test-support/temp';
import { testCacheRoot } from '../../test-support/tools';
import { writeTestWheel } from '../../test-support/test-wheel';
import { writeRequiringWheel, writeTinydepSdist } from '../../test-support/wheelhouse-fixtures';
import { ToolError } from '../errors';
import { recordingLogger } from '../log';
import { run } from '../process';
import { describePython } from '../python';
import { buildWheelhouse, readManifest, type BuildWheelhouseOptions } from './index';

const TORCH = 'torch==2.6.0+cpu; platform_machine == "x86_64"';
/** pip's cache in the shared test cache: PyPI's files (six, setuptools for the sdist's build) come once per machine. */
const ENV = { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8', PIP_CACHE_DIR: join(testCacheRoot(), 'pip') };
/** Any network access fails: what is installed from the wheelhouse must be in it. */
const OFFLINE = { ...ENV, HTTP_PROXY: 'http://127.0.0.1:9', HTTPS_PROXY: 'http://127.0.0.1:9', http_proxy: 'http://127.0.0.1:9', https_proxy: 'http://127.0.0.1:9', PIP_RETRIES: '0' };

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const sh = async (command: string, args: string[], cwd: string, env: Record<string, string | undefined> = ENV) => (await run(command, args, { cwd, env, timeoutMs: 10 * 60_000 })).stdout.trim();

describe('buildWheelhouse (real pip: the fixture CPU torch index, a local sdist, six from PyPI)', () => {
  const work = tempDir('wheelhouse');
  const torch = createTorchIndex(join(work, 'torch-index'));
  const dir = join(work, 'dist', 'wheelhouse', 'app');
  let options: BuildWheelhouseOptions;
  let appWheel: string;
  const log = recordingLogger();

  beforeAll(async () => {
    const { links } = await writeTinydepSdist(work);
    appWheel = await writeRequiringWheel(join(work, 'wheels'), 'app', '1.0', [TORCH, 'tinydep']);
    options = {
      python: await describePython('python3.11', ENV),
      base: { requirements: [TORCH], source: { indexUrl: torch.indexUrl } },
      requirements: [appWheel],
      source: { findLinks: [links] },
      dir,
      dockerfile: { title: 'app', baseImage: 'python:3.11-slim' },
      env: ENV,
      log,
      dryRun: false,
    };
    await buildWheelhouse(options);
  });

  it('holds the base from its index, the requested wheel, and the closure with sdists built into wheels; the manifest has each sha256', () => {
    const manifest = readManifest(join(dir, 'manifest.json'));
    expect(manifest.python).toMatch(/^3\.11\./);
    expect(manifest.files.map((f) => [f.role, f.name, f.version, f.builtFromSdist])).toEqual([
      ['base', 'torch', '2.6.0+cpu', false],
      ['requested', 'app', '1.0', false],
      ['dependency', 'six', expect.stringMatching(/^1\./), false],
      ['dependency', 'tinydep', '1.0', true],
    ]);
    for (const f of manifest.files) expect(sha256(join(dir, f.file))).toBe(f.sha256);
    // torch is the fixture index's file, byte for byte: never another build from another index.
    expect(manifest.files[0].sha256).toBe(sha256(torch.wheelPath));
    expect(sha256(join(dir, manifest.files[1].file))).toBe(sha256(appWheel));
    expect(readdirSync(dir).sort()).toEqual(['.dockerignore', 'Dockerfile', 'constraints.txt', 'manifest.json', ...manifest.files.map((f) => f.file)].sort());
    expect(readFileSync(join(dir, 'constraints.txt'), 'utf8')).toBe(`app==1.0\nsix==${manifest.files[2].version}\ntinydep==1.0\ntorch==2.6.0+cpu\n`);
    // The resolution ran with torch installed: pip never looked for it again.
    expect(log.lines.join('\n')).not.toMatch(/Collecting torch/);
  });

  it('installs offline into a fresh venv: pip install --no-index --find-links <wheelhouse> app, and imports', async () => {
    const venv = join(work, 'offline-venv');
    await sh('python3.11', ['-m', 'venv', venv], work, OFFLINE);
    await sh(join(venv, 'bin', 'pip'), ['install', '--disable-pip-version-check', '--no-index', '--find-links', dir, 'app'], work, OFFLINE);
    const out = await sh(join(venv, 'bin', 'python'), ['-c', 'import importlib.metadata as md, tinydep, six, vllm; print(md.version("torch"), md.version("app"), tinydep.VALUE)'], work, OFFLINE);
    expect(out).toBe('2.6.0+cpu 1.0 42');
  });

  it('its Dockerfile (no container engine here: parsed, its install steps run in a venv) installs base, dependencies, then the requested wheel, offline', async () => {
    const dockerfile = readFileSync(join(dir, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^# syntax=docker\/dockerfile:1\n/);
    expect(readFileSync(join(dir, '.dockerignore'), 'utf8')).toMatch(/^\*\n!\*\.whl\n$/m);
    const venv = join(work, 'image-venv');
    const result = await runDockerfileInVenv({ dockerfile: join(dir, 'Dockerfile'), python: 'python3.11', workDir: join(work, 'docker'), venvDir: venv, env: OFFLINE });
    expect(result.image).toBe('python:3.11-slim');
    const manifest = readManifest(join(dir, 'manifest.json'));
    const filesOf = (role: string) => manifest.files.filter((f) => f.role === role).map((f) => f.file).sort();
    expect(result.stages).toEqual({ 'base-wheels': filesOf('base'), 'dependency-wheels': filesOf('dependency'), 'requested-wheels': filesOf('requested') });
    expect(result.runs.map((r) => r.mounts)).toEqual([[], ['base-wheels'], ['dependency-wheels'], ['requested-wheels'], []]);
    expect(result.runs[0].command).toBe('python -m venv /opt/venv');
    for (const r of result.runs.slice(1, 4)) {
      expect(r.command).toMatch(/^\/opt\/venv\/bin\/pip install --disable-pip-version-check --no-index --no-deps /);
    }
    expect(dockerfile).toContain('RUN --mount=type=cache,target=/root/.cache/pip --mount=type=bind,from=base-wheels,target=/wheelhouse');
    expect(result.runs[4].command).toBe('/opt/venv/bin/pip check');
    expect(result.env).toEqual(['VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH']);
    const out = await sh(join(venv, 'bin', 'python'), ['-c', 'import importlib.metadata as md, tinydep; print(md.version("torch"), md.version("app"), tinydep.VALUE)'], work, OFFLINE);
    expect(out).toBe('2.6.0+cpu 1.0 42');
  });

  it('refuses requirements the base does not satisfy (pip would replace it from the other index) and keeps the previous wheelhouse', async () => {
    const other = join(work, 'other-torch');
    await writeTestWheel(other, 'torch', '2.7.0');
    const greedy = await writeRequiringWheel(join(work, 'wheels'), 'greedy', '1.0', ['torch>=2.7']);
    const before = readFileSync(join(dir, 'manifest.json'), 'utf8');
    const attempt = buildWheelhouse({ ...options, requirements: [greedy], source: { noIndex: true, findLinks: [other] }, log: recordingLogger() });
    await expect(attempt).rejects.toThrow(ToolError);
    await expect(attempt).rejects.toThrow(/need torch 2\.7\.0 \(the base has 2\.6\.0\+cpu\)/);
    expect(readFileSync(join(dir, 'manifest.json'), 'utf8')).toBe(before);
    expect(existsSync(join(dir, 'greedy-1.0-py3-none-any.whl'))).toBe(false);
    // With no base at all, a distribution reserved to the base is refused the same way.
    const noBase = buildWheelhouse({ ...options, base: { requirements: [], source: {} }, onlyFromBase: ['Torch'], requirements: [greedy], source: { noIndex: true, findLinks: [other] }, log: recordingLogger() });
    await expect(noBase).rejects.toThrow(/need torch 2\.7\.0 \(only the base may provide it, and it does not\)/);
  });
});
