/**
 * The ROCm steps on the fixture (tools/fixtures/rocm): base wheels from a directory, a command and a URL,
 * stripped of their local versions; the toolchain a ROCm build needs, found or named as missing.
 */
import { chmodSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRocmBaseWheels, createRocmToolchain, ROCM_BASE_WHEELS_SCRIPT } from '../../../../../tools/fixtures/index.js';
import type { RocmConfig, RocmWheelConfig } from '../../config';
import { rocmConfigSchema } from '../../config';
import { testCacheRoot } from '../../test-support/tools';
import { tempDir } from '../../test-support/temp';
import { machineCache } from '../cache-dir';
import { ToolError } from '../errors';
import { renameWheel } from '../wheel';
import { recordingLogger } from '../log';
import type { SourceSpec, StepContext } from '../pipeline/context';
import { BASE_WHEELS_MANIFEST, buildRocmVariant, collectBaseWheels, findRocmToolchain, type RocmSpec } from '.';

const NORMALIZED = ['amdsmi-26.1.0-py3-none-linux_x86_64.whl', 'torch-2.9.0-py3-none-linux_x86_64.whl', 'torchvision-0.24.0-py3-none-linux_x86_64.whl', 'triton-3.5.0-py3-none-linux_x86_64.whl'];

function rocmSpec(baseWheels: object): RocmSpec {
  const config: RocmConfig = rocmConfigSchema.parse({ device: 'rocm', rocmVersion: '7.1', gpuArchs: ['gfx942', 'gfx90a'], python: '3.12', baseWheels });
  return { name: 'rocm', configFile: 'packages/rocm/rocm.json', config };
}

function context(root: string, env: Record<string, string | undefined> = { PATH: process.env.PATH, HOME: process.env.HOME }, dryRun = false): StepContext & { log: ReturnType<typeof recordingLogger> } {
  // The tools venv (pip for a URL) comes from the shared test cache.
  return { workspaceRoot: root, env, cache: machineCache({ VLLM_WHEELS_CACHE_DIR: testCacheRoot() }), log: recordingLogger(), dryRun };
}

function manifest(root: string) {
  return JSON.parse(readFileSync(join(root, 'dist', 'base-wheels', 'rocm', BASE_WHEELS_MANIFEST), 'utf8'));
}

describe('collectBaseWheels', () => {
  it('takes them from a directory of the project, strips +git… and writes what each was', async () => {
    const root = tempDir('rocm-ws');
    createRocmBaseWheels(join(root, 'packages', 'rocm', 'base-wheels'));
    const ctx = context(root);
    const written = await collectBaseWheels(rocmSpec({ directory: 'base-wheels' }), ctx);
    expect(written.map((w) => w.slice(w.lastIndexOf('/') + 1)).sort()).toEqual(NORMALIZED);
    expect(readdirSync(join(root, 'dist', 'base-wheels', 'rocm')).sort()).toEqual([...NORMALIZED, BASE_WHEELS_MANIFEST].sort());
    const m = manifest(root);
    expect(m).toEqual(expect.objectContaining({ rocmVersion: '7.1', gpuArchs: ['gfx942', 'gfx90a'], python: '3.12' }));
    expect(m.wheels.find((w: { distribution: string }) => w.distribution === 'torchvision')).toEqual({
      distribution: 'torchvision',
      version: '0.24.0',
      localVersion: '0.24.0+git98f8b37',
      file: 'torchvision-0.24.0-py3-none-linux_x86_64.whl',
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(ctx.log.lines).toContain('  torchvision-0.24.0-py3-none-linux_x86_64.whl: Requires-Dist torch (==2.9.0+git1c57644d) -> torch (==2.9.0)');
  });

  it('runs a command with the environment it builds for, and takes what it wrote to $VLLM_WHEELS_BASE_WHEELS_OUT', async () => {
    const root = tempDir('rocm-ws-command');
    const project = join(root, 'packages', 'rocm');
    const script = join(tempDir('rocm-script'), 'build.sh');
    writeFileSync(script, `#!/bin/sh\nset -e\necho "building for ROCm $ROCM_VERSION, $PYTORCH_ROCM_ARCH, python $PYTHON_VERSION"\nexec python3 ${ROCM_BASE_WHEELS_SCRIPT} --out "$VLLM_WHEELS_BASE_WHEELS_OUT"\n`);
    chmodSync(script, 0o755);
    mkdirSync(project, { recursive: true });
    const ctx = context(root);
    await collectBaseWheels(rocmSpec({ command: [script] }), ctx);
    expect(ctx.log.lines).toContain('building for ROCm 7.1, gfx942;gfx90a, python 3.12');
    expect(readdirSync(join(root, 'dist', 'base-wheels', 'rocm')).sort()).toEqual([...NORMALIZED, BASE_WHEELS_MANIFEST].sort());
  });

  it('downloads them with pip from a URL that links them', async () => {
    const root = tempDir('rocm-ws-url');
    const { dir } = createRocmBaseWheels(tempDir('rocm-served'));
    const ctx = context(root);
    await collectBaseWheels(rocmSpec({ url: pathToFileURL(dir).href }), ctx);
    expect(readdirSync(join(root, 'dist', 'base-wheels', 'rocm')).sort()).toEqual([...NORMALIZED, BASE_WHEELS_MANIFEST].sort());
  }, 600_000);

  it('refuses a set that is not the one configured, keeping the previous output', async () => {
    const root = tempDir('rocm-ws-missing');
    const { wheels } = createRocmBaseWheels(join(root, 'packages', 'rocm', 'base-wheels'));
    const ctx = context(root);
    await collectBaseWheels(rocmSpec({ directory: 'base-wheels' }), ctx);
    rmSync(wheels.amdsmi);
    const e = await collectBaseWheels(rocmSpec({ directory: 'base-wheels', distributions: ['torch', 'triton', 'torchvision', 'amdsmi'] }), ctx).catch((x: Error) => x);
    expect((e as Error).message).toContain('missing: amdsmi');
    const extra = await collectBaseWheels(rocmSpec({ directory: 'base-wheels', distributions: ['torch', 'triton'] }), ctx).catch((x: Error) => x);
    expect((extra as Error).message).toContain('not in baseWheels.distributions: torchvision-0.24.0+git98f8b37-py3-none-linux_x86_64.whl');
    expect(readdirSync(join(root, 'dist', 'base-wheels', 'rocm')).sort()).toEqual([...NORMALIZED, BASE_WHEELS_MANIFEST].sort());
  });

  it('refuses a set that does not install together once stripped (real pip, the directory alone)', async () => {
    const root = tempDir('rocm-ws-unresolvable');
    const dir = join(root, 'packages', 'rocm', 'base-wheels');
    const { wheels } = createRocmBaseWheels(dir);
    // torchvision pinning a torch release the set does not have: no local version, so stripping cannot see it.
    const other = tempDir('rocm-other-pin');
    await renameWheel({ input: wheels.torchvision, outputDir: other, distribution: 'torchvision', metadataUpdates: { 'Requires-Dist': ['torch==2.8.0'] } });
    rmSync(wheels.torchvision);
    renameSync(join(other, 'torchvision-0.24.0+git98f8b37-py3-none-linux_x86_64.whl'), wheels.torchvision);
    const e = await collectBaseWheels(rocmSpec({ directory: 'base-wheels' }), context(root)).catch((x: Error) => x);
    expect((e as Error).message).toContain('rocm: the base wheels do not install together once stripped (nothing was written); pip says:');
    expect((e as Error).message).toMatch(/torch==2\.8\.0/);
    expect(readdirSync(join(root, 'dist', 'base-wheels'))).toEqual([]); // no output, no temp dir left
  }, 600_000);

  it('previews a command in a dry run (cwd, env, timeout) and writes nothing', async () => {
    const root = tempDir('rocm-ws-dry');
    const ctx = context(root, undefined, true);
    await collectBaseWheels(rocmSpec({ command: ['bash', 'build.sh'] }), ctx);
    expect(ctx.log.lines.join('\n')).toContain(`[dry-run] would run (cwd ${join(root, 'packages', 'rocm')}): bash build.sh`);
    expect(ctx.log.lines.join('\n')).toMatch(/env: .*PYTORCH_ROCM_ARCH='gfx942;gfx90a'/);
    expect(readdirSync(root)).toEqual([]);
  });
});

describe('the ROCm toolchain', () => {
  const toolchain = createRocmToolchain(tempDir('rocm-root'), { rocmVersion: '7.1.0' });

  it('is found in ROCM_PATH, with its version checked against rocm.json', () => {
    expect(findRocmToolchain({ ROCM_PATH: toolchain.root, PATH: '' }, '7.1')).toEqual({ root: toolchain.root, hipcc: toolchain.hipcc, version: '7.1.0-fixture', problems: [] });
    expect(findRocmToolchain({ ROCM_PATH: toolchain.root, PATH: '' }, '7.2').problems).toEqual([`ROCm 7.2: ${join(toolchain.root, '.info', 'version')} says 7.1.0-fixture`]);
  });

  it('names what is missing where ROCm is not installed', () => {
    const empty = tempDir('no-rocm');
    expect(findRocmToolchain({ ROCM_PATH: empty, PATH: '' }, '7.1').problems).toEqual([
      `hipcc: not in ${join(empty, 'bin')} (ROCM_PATH) nor on PATH`,
      `ROCm 7.1: ${join(empty, '.info', 'version')} does not exist`,
    ]);
  });
});

describe('buildRocmVariant', () => {
  const source: SourceSpec = { name: 'vllm', configFile: 'packages/vllm/vllm.json', config: { repository: 'https://github.com/vllm-project/vllm.git', ref: 'v0.16.0', commit: 'a'.repeat(40), patches: [] } };
  const variant = { name: 'vllm-rocm', configFile: 'packages/vllm-rocm/wheel.json', config: { distribution: 'vllm-rocm', device: 'rocm', arch: 'x86_64', env: { VLLM_ROCM_USE_AITER: '1' } } as unknown as RocmWheelConfig };

  it('fails at once without ROCm, saying what it needs', async () => {
    const empty = tempDir('no-rocm-build');
    const e = await buildRocmVariant(source, rocmSpec({ directory: 'x' }), variant, context(tempDir('ws'), { ROCM_PATH: empty, PATH: '' })).catch((x: Error) => x);
    expect(e).toBeInstanceOf(ToolError);
    expect((e as Error).message).toBe(
      'vllm-rocm:build (vLLM v0.16.0 for ROCm 7.1, gfx942, gfx90a) needs ROCm 7.1 with hipcc (a ROCm build machine: an AMD GPU runner or a ROCm container), and this machine lacks it:\n' +
        `  - hipcc: not in ${join(empty, 'bin')} (ROCM_PATH) nor on PATH\n` +
        `  - ROCm 7.1: ${join(empty, '.info', 'version')} does not exist\n` +
        'Run it where ROCm 7.1 is installed (set ROCM_PATH if it is not in /opt/rocm); `--dry-run` shows what it would do.',
    );
  });

  it('previews the build in a dry run even without ROCm: VLLM_TARGET_DEVICE=rocm, PYTORCH_ROCM_ARCH from gpuArchs', async () => {
    const root = tempDir('ws-dry');
    // A machine cache of its own: the build asks the mirror for its commit.
    const ctx = { ...context(root, { ROCM_PATH: tempDir('no-rocm-dry'), PATH: process.env.PATH }, true), cache: machineCache({ VLLM_WHEELS_CACHE_DIR: tempDir('rocm-dry-cache') }) };
    // The build venv's python is the repository's torch.json one (3.11), which this machine has.
    const rocm = rocmSpec({ directory: 'x' });
    await buildRocmVariant(source, { ...rocm, config: { ...rocm.config, python: '3.11' } }, variant, ctx);
    const text = ctx.log.lines.join('\n');
    expect(text).toContain('[dry-run] vllm-rocm: the real run would fail here, this machine lacks ROCm:');
    // The base wheels go in first, as files (dist/base-wheels/rocm is not written yet: a placeholder).
    expect(text).toContain(`has no base wheels yet (\`nx run rocm:base-wheels\` writes them)`);
    expect(text).toContain(`setup.py bdist_wheel`);
    expect(text).toMatch(/env: .*PYTORCH_ROCM_ARCH='gfx942;gfx90a'/);
    expect(text).toMatch(/VLLM_TARGET_DEVICE=rocm/);
    expect(text).toMatch(/VLLM_ROCM_USE_AITER=1/);
    expect(readdirSync(root)).toEqual([]);
  });

  it('with the fixture ROCm it gets past the toolchain check, to the source', async () => {
    const missing = join(tempDir('no-repo'), 'vllm');
    const local = { ...source, config: { ...source.config, repository: missing } };
    const ctx = { ...context(tempDir('ws'), { ROCM_PATH: createRocmToolchain(tempDir('rocm-root-build')).root, PATH: process.env.PATH, HOME: process.env.HOME }), cache: machineCache({ VLLM_WHEELS_CACHE_DIR: tempDir('rocm-build-cache') }) };
    const e = await buildRocmVariant(local, rocmSpec({ directory: 'x' }), variant, ctx).catch((x: Error) => x);
    expect(e).not.toBeInstanceOf(ToolError);
    expect((e as Error).message).toContain(missing);
  });
});
