import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tempDir } from '../../test-support/temp';
import { ToolError } from '../errors';
import { recordingLogger } from '../log';
import { run } from '../process';
import { recordFor, writeZipWithPython, type Member } from '../wheel/test-support/python';
import type { PythonInterpreter } from './find-python';
import type { BuildRequirements } from './requirements';
import { missingFileIndexPage } from './stamped-venv';
import { ensureBuildVenv, readVenvStamp, urlSecrets, venvKey, venvPaths, type BuildVenvOptions } from './venv';

const PY311: PythonInterpreter = { path: '/usr/bin/python3.11', version: '3.11.7' };
const REQS: BuildRequirements = { lines: ['cmake>=3.26.1', 'torch==2.6.0+cpu'], droppedIndexOptions: [], torchPin: 'torch==2.6.0+cpu', files: ['requirements/cpu-build.txt'] };
const TORCH_INDEX = 'https://download.pytorch.org/whl/cpu';

describe('venvKey', () => {
  const base: Parameters<typeof venvKey>[0] = { python: PY311, requirements: REQS, torchIndexUrl: TORCH_INDEX, indexUrl: undefined, extraIndexUrls: [] };

  it('is stable for equal inputs and names the python version', () => {
    const key = venvKey(base);
    expect(key).toMatch(/^py3\.11\.7-[0-9a-f]{16}$/);
    expect(venvKey({ ...base, python: { ...PY311 }, requirements: { ...REQS, lines: [...REQS.lines] }, extraIndexUrls: [] })).toBe(key);
  });

  it('ignores what does not change the venv: the interpreter path, where the lines came from, dropped options', () => {
    const key = venvKey(base);
    expect(venvKey({ ...base, python: { ...PY311, path: '/opt/python/bin/python3.11' } })).toBe(key);
    expect(venvKey({ ...base, requirements: { ...REQS, files: ['requirements/build/cpu.txt'], droppedIndexOptions: ['--no-index'] } })).toBe(key);
  });

  it.each<[string, Partial<typeof base>]>([
    ['the python version', { python: { ...PY311, version: '3.11.8' } }],
    ['a requirement', { requirements: { ...REQS, lines: ['cmake>=3.26.1', 'torch==2.7.0+cpu'] } }],
    ['the order of requirements', { requirements: { ...REQS, lines: [...REQS.lines].reverse() } }],
    ['the torch index', { torchIndexUrl: 'https://download.pytorch.org/whl/test/cpu' }],
    ['the main index', { indexUrl: 'https://mirror.example.com/simple' }],
    ['an extra index', { extraIndexUrls: ['https://extra.example.com/simple'] }],
  ])('changes with %s', (_what, change) => {
    expect(venvKey({ ...base, ...change })).not.toBe(venvKey(base));
  });
});

describe('urlSecrets', () => {
  it('extracts passwords (raw and decoded) and lone-username tokens from URLs, nothing else', () => {
    expect(
      urlSecrets([
        'https://user:s3cr3t@host.example.com/simple/',
        'https://__token__:p%40ss%2Fword@host.example.com/simple/',
        'https://ghp_tokenAsUser@host.example.com/simple/',
        'https://download.pytorch.org/whl/cpu',
        undefined,
        'not a url',
      ]),
    ).toEqual(['s3cr3t', 's3cr3t', 'p@ss/word', 'p%40ss%2Fword', 'ghp_tokenAsUser']);
  });
});

describe('missingFileIndexPage', () => {
  const torch = 'file:///ws/.fixture/torch-index/simple';
  const line = (url: string) => `WARNING: Location '${url}' is ignored: it is neither a file nor a directory.`;

  it("is pip's warning that one of our file:// indexes has no page for a project (an http index answers 404 silently)", () => {
    expect(missingFileIndexPage(line(`${torch}/cmake/`), [torch])).toBe(true);
    expect(missingFileIndexPage(`  ${line(`${torch}/setuptools-scm/`)}`, ['https://pypi.org/simple', `${torch}/`])).toBe(true);
    // Coloured, as pip prints it under Nx (FORCE_COLOR).
    expect(missingFileIndexPage(`\x1b[33m${line(`${torch}/ninja/`)}\x1b[0m`, [torch])).toBe(true);
  });

  it('is not any other line, nor the warning about a location that is not a project page of one of our indexes', () => {
    expect(missingFileIndexPage(line('file:///elsewhere/simple/cmake/'), [torch])).toBe(false);
    expect(missingFileIndexPage(line(`${torch}/cmake/files/x.whl`), [torch])).toBe(false);
    expect(missingFileIndexPage(line(`${torch}/cmake/`), ['https://download.pytorch.org/whl/cpu', undefined])).toBe(false);
    expect(missingFileIndexPage('WARNING: Retrying (Retry(total=4)) after connection broken', [torch])).toBe(false);
  });
});

describe('ensureBuildVenv', () => {
  const PASSWORD = 'hunter2-t0k%2Fen';
  const SECRET_URL = `https://wheels-user:${PASSWORD}@127.0.0.1:9/simple/`;
  let python: PythonInterpreter;
  let indexUrl: string;
  let options: BuildVenvOptions & { log: ReturnType<typeof recordingLogger> };

  /** A PEP 503 index on disk holding a tiny pure-Python "torch" wheel: nothing reaches PyPI. */
  async function localIndex(root: string): Promise<string> {
    const di = 'torch-2.6.0+cpu.dist-info';
    const members: Member[] = [
      { name: 'torch/__init__.py', data: '__version__ = "2.6.0+cpu"\n' },
      { name: `${di}/METADATA`, data: 'Metadata-Version: 2.1\nName: torch\nVersion: 2.6.0+cpu\nSummary: fake CPU torch for tests\n' },
      { name: `${di}/WHEEL`, data: 'Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n' },
    ];
    const wheel = join(root, 'files', 'torch-2.6.0+cpu-py3-none-any.whl');
    mkdirSync(join(root, 'files'));
    await writeZipWithPython(wheel, [...members, { name: `${di}/RECORD`, data: recordFor(members, `${di}/RECORD`) }]);
    const sha = createHash('sha256').update(readFileSync(wheel)).digest('hex');
    mkdirSync(join(root, 'simple', 'torch'), { recursive: true });
    writeFileSync(join(root, 'simple', 'index.html'), '<!DOCTYPE html><html><body><a href="torch/">torch</a></body></html>\n');
    writeFileSync(
      join(root, 'simple', 'torch', 'index.html'),
      `<!DOCTYPE html><html><body><a href="../../files/torch-2.6.0%2Bcpu-py3-none-any.whl#sha256=${sha}">torch-2.6.0+cpu-py3-none-any.whl</a></body></html>\n`,
    );
    return `${pathToFileURL(join(root, 'simple')).href}/`;
  }

  beforeAll(async () => {
    const probe = await run('python3', ['-c', 'import sys; print(sys.executable); print("%d.%d.%d" % sys.version_info[:3])'], {
      cwd: '/',
      env: process.env,
      timeoutMs: 30_000,
    });
    const [path, version] = probe.stdout.trim().split('\n');
    python = { path, version };
    indexUrl = await localIndex(tempDir('venv-index'));
    const cache = tempDir('venv-cache');
    // A constraint pip would honour from the caller's env: the build venv must follow torch.json alone.
    const constraints = join(cache, 'constraints.txt');
    writeFileSync(constraints, 'torch==9.9.9\n');
    options = {
      venvsDir: join(cache, 'venvs'),
      locksDir: join(cache, 'locks'),
      python,
      requirements: { lines: ['torch==2.6.0+cpu'], droppedIndexOptions: ['--extra-index-url https://download.pytorch.org/whl/cpu'], torchPin: 'torch==2.6.0+cpu', files: ['requirements/cpu-build.txt'] },
      torchIndexUrl: indexUrl,
      indexUrl,
      // Never reached for torch (and refused at once if it is): it is here for its password.
      extraIndexUrls: [SECRET_URL],
      installer: 'pip',
      env: { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8', PIP_CONFIG_FILE: '/dev/null', PIP_NO_CACHE_DIR: '1', PIP_RETRIES: '0', PIP_TIMEOUT: '5', PIP_CONSTRAINT: constraints, UV_EXTRA_INDEX_URL: 'https://elsewhere.example/simple' },
      log: recordingLogger(),
      dryRun: false,
      timeoutMs: 300_000,
    };
  });

  function expectNoSecretIn(lines: readonly string[]): void {
    const text = lines.join('\n');
    for (const secret of [PASSWORD, decodeURIComponent(PASSWORD)]) expect(text).not.toContain(secret);
  }

  // The two tests below share one venv (creating one takes seconds): the second continues from the first.
  it('creates the venv from a local index, stamps it, and reuses it on the next call', async () => {
    const created = await ensureBuildVenv(options);
    const paths = venvPaths(options.venvsDir, created.key);
    expect(created).toEqual({ dir: paths.dir, python: paths.python, key: venvKey(options), reused: false });
    expect(readVenvStamp(options.venvsDir, created.key)).toEqual({ key: created.key, python: python.version, requirements: ['torch==2.6.0+cpu'], installer: 'pip' });
    expect(readFileSync(join(paths.dir, 'build-requirements.txt'), 'utf8')).toBe('torch==2.6.0+cpu\n');
    const imported = await run(created.python, ['-c', 'import torch, sys; print(torch.__version__); print(sys.prefix)'], { cwd: '/', env: { PATH: process.env.PATH }, timeoutMs: 30_000 });
    expect(imported.stdout).toBe(`2.6.0+cpu\n${paths.dir}\n`);
    expect(readdirSync(options.locksDir)).toEqual([]);

    expect(options.log.lines[0]).toBe(`> Creating build environment ${paths.dir} with pip (python ${python.version}, torch==2.6.0+cpu)`);
    expect(options.log.lines).toContain(
      'Index options in requirements/cpu-build.txt are replaced by torch.json\'s indexes: --extra-index-url https://download.pytorch.org/whl/cpu',
    );
    expect(options.log.lines).toContainEqual(expect.stringMatching(/^ {2}Successfully installed torch-2\.6\.0\+cpu$/));
    // The command is shown, with the URL's password masked.
    expect(options.log.lines).toContainEqual(
      `$ ${paths.python} -m pip install --disable-pip-version-check --no-input -r ${paths.dir}/build-requirements.txt --index-url ${indexUrl} --extra-index-url ${indexUrl} --extra-index-url https://wheels-user:***@127.0.0.1:9/simple/`,
    );
    expectNoSecretIn(options.log.lines);

    const log = recordingLogger();
    const again = await ensureBuildVenv({ ...options, log });
    expect(again).toEqual({ ...created, reused: true });
    expect(log.lines).toEqual([`Build environment ${paths.dir} is ready (torch torch==2.6.0+cpu); reusing it.`]);
  });

  it('recreates a venv whose creation was interrupted (no stamp)', async () => {
    const paths = venvPaths(options.venvsDir, venvKey(options));
    rmSync(paths.stamp);
    writeFileSync(join(paths.dir, 'half-written'), '');
    const log = recordingLogger();
    const result = await ensureBuildVenv({ ...options, log });
    expect(result.reused).toBe(false);
    expect(existsSync(paths.stamp)).toBe(true);
    expect(existsSync(join(paths.dir, 'half-written'))).toBe(false);
    expect(log.lines[0]).toMatch(/^> Creating build environment /);
    expectNoSecretIn(log.lines);
    const imported = await run(result.python, ['-c', 'import torch; print(torch.__version__)'], { cwd: '/', env: { PATH: process.env.PATH }, timeoutMs: 30_000 });
    expect(imported.stdout).toBe('2.6.0+cpu\n');
  });

  it('in a dry run writes nothing and prints the commands, password masked', async () => {
    const cache = tempDir('venv-dry');
    const log = recordingLogger();
    // An active venv and a PYTHONPATH in the caller's env: the venv commands run without them.
    const env = { ...options.env, VIRTUAL_ENV: '/home/me/.venv', PYTHONPATH: '/home/me/lib' };
    const dry = { ...options, env, venvsDir: join(cache, 'venvs'), locksDir: join(cache, 'locks'), log, dryRun: true };
    const result = await ensureBuildVenv(dry);
    expect(result.reused).toBe(false);
    expect(readdirSync(cache)).toEqual([]);
    const { dir, python: venvPython } = venvPaths(dry.venvsDir, result.key);
    // PIP_CONSTRAINT and UV_EXTRA_INDEX_URL would change what is installed.
    const venvEnv = '[dry-run]   env: UV_NO_CONFIG=1 PIP_NO_INPUT=1 PIP_DISABLE_PIP_VERSION_CHECK=1 (removed: PIP_CONSTRAINT UV_EXTRA_INDEX_URL VIRTUAL_ENV PYTHONPATH)';
    expect(log.lines.filter((l) => l.startsWith('[dry-run]'))).toEqual([
      `[dry-run] would run (cwd ${dry.venvsDir}): ${python.path} -m venv ${dir}\n${venvEnv}`,
      `[dry-run] would write ${dir}/build-requirements.txt:\ntorch==2.6.0+cpu\n`,
      `[dry-run] would run (cwd ${dry.venvsDir}): ${venvPython} -m pip install --disable-pip-version-check --no-input -r ${dir}/build-requirements.txt --index-url ${indexUrl} --extra-index-url ${indexUrl} --extra-index-url https://wheels-user:***@127.0.0.1:9/simple/\n${venvEnv}`,
      `[dry-run] would write ${dir}/vllm-wheels-venv.json`,
    ]);
    expectNoSecretIn(log.lines);
  });

  it('creates the venv with uv when uv is on PATH ("auto"), from the same indexes', async () => {
    const tools = tempDir('venv-uv-tools');
    await run('python3', ['-m', 'venv', tools], { cwd: '/', env: process.env, timeoutMs: 120_000 });
    await run(join(tools, 'bin', 'python'), ['-m', 'pip', 'install', '--disable-pip-version-check', '-q', 'uv'], { cwd: '/', env: process.env, timeoutMs: 300_000 });
    const cache = tempDir('venv-uv');
    const log = recordingLogger();
    const withUv = {
      ...options,
      venvsDir: join(cache, 'venvs'),
      locksDir: join(cache, 'locks'),
      installer: 'auto' as const,
      extraIndexUrls: [],
      env: { ...options.env, PATH: `${join(tools, 'bin')}:${process.env.PATH}`, UV_NO_CACHE: '1', UV_NO_CONFIG: '1' },
      log,
    };
    const created = await ensureBuildVenv(withUv);
    expect(log.lines[0]).toMatch(/^> Creating build environment .* with uv /);
    expect(log.lines).toContainEqual(expect.stringMatching(/uv pip install --python \S+ --index-strategy unsafe-best-match -r \S+build-requirements\.txt --index-url /));
    const imported = await run(created.python, ['-c', 'import torch; print(torch.__version__)'], { cwd: '/', env: { PATH: process.env.PATH }, timeoutMs: 30_000 });
    expect(imported.stdout).toBe('2.6.0+cpu\n');
    expect(readVenvStamp(withUv.venvsDir, created.key)).toMatchObject({ installer: 'uv' });
  });

  it('refuses installer "uv" when uv is not on PATH, and releases its lock', async () => {
    const cache = tempDir('venv-nouv');
    const noUv = { ...options, venvsDir: join(cache, 'venvs'), locksDir: join(cache, 'locks'), installer: 'uv' as const, env: { ...options.env, PATH: tempDir('venv-empty-path') } };
    await expect(ensureBuildVenv(noUv)).rejects.toThrow(new ToolError('torch.json asks for installer "uv", but uv is not on PATH. Install uv or use "auto".'));
    expect(readdirSync(noUv.locksDir)).toEqual([]);
    expect(existsSync(noUv.venvsDir)).toBe(false);
  });
});
