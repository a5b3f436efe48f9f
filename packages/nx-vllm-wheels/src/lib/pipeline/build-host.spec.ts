import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { machine } from 'node:os';
import { torchConfigSchema, vllmConfigSchema, wheelConfigSchema } from '../../config';
import { rejection } from '../../test-support/rejection';
import { tempDir } from '../../test-support/temp';
import { machineCache } from '../cache-dir';
import { ToolError } from '../errors';
import { recordingLogger } from '../log';
import { buildVariant } from './build';
import { buildHostProblem } from './build-host';
import type { SourceSpec, StepContext, TorchSpec, VariantSpec } from './context';

const COMMIT = 'f'.repeat(40);
const source: SourceSpec = {
  name: 'vllm-0.34',
  configFile: 'packages/vllm-0.34/vllm.json',
  config: { ...vllmConfigSchema.parse({ repository: 'https://github.com/vllm-project/vllm.git', ref: 'v0.34.0', commit: COMMIT }), commit: COMMIT },
};
const torch: TorchSpec = { configFile: 'packages/torch-cpu/torch.json', config: torchConfigSchema.parse({ python: '3.11' }) };
const variant = (arch: string, isa: string): VariantSpec => ({
  name: `vllm-cpu-${arch}@vllm-0.34`,
  configFile: `packages/vllm-0.34/vllm-cpu-${arch}/wheel.json`,
  config: wheelConfigSchema.parse({ distribution: 'vllm-cpu', device: 'cpu', arch, isa }),
});

function context(dryRun: boolean, host?: string): StepContext & { log: ReturnType<typeof recordingLogger> } {
  const root = tempDir('build-host');
  const env = { PATH: process.env.PATH, HOME: root, VLLM_WHEELS_CACHE_DIR: join(root, 'machine-cache') };
  return { workspaceRoot: root, env, cache: machineCache(env), log: recordingLogger(), dryRun, ...(host && { host }) };
}

describe('a variant builds on a machine of its arch only', () => {
  it('names the architecture needed and the host', () => {
    expect(buildHostProblem(variant('aarch64', 'dotprod'), 'aarch64')).toBeUndefined();
    expect(buildHostProblem(variant('x86_64', 'avx2'), 'x86_64')).toBeUndefined();
    expect(buildHostProblem(variant('aarch64', 'dotprod'), 'x86_64')).toBe(
      'vllm-cpu-aarch64@vllm-0.34 builds on an aarch64 machine only (packages/vllm-0.34/vllm-cpu-aarch64/wheel.json "arch": "aarch64"), and this machine is x86_64: ' +
        "vLLM's CPU build compiles for the machine it runs on. Build it on aarch64 (the workflow `nx g nx-vllm-wheels:ci` writes sends it to an aarch64 runner); " +
        'the later steps run anywhere: with that build\'s dist/raw/vllm-cpu-aarch64@vllm-0.34 (the wheel and build-info.json) in place, `nx run vllm-cpu-aarch64@vllm-0.34:wheel --excludeTaskDependencies`.',
    );
    expect(buildHostProblem(variant('x86_64', 'avx2'), 'aarch64')).toMatch(/^vllm-cpu-x86_64@vllm-0\.34 builds on an x86_64 machine only .* and this machine is aarch64:/);
  });

  it('build fails at once on this machine for the other architecture: nothing fetched, locked or written', async () => {
    const other = machine() === 'aarch64' ? variant('x86_64', 'avx2') : variant('aarch64', 'dotprod');
    const ctx = context(false);
    const e = await rejection(buildVariant(source, torch, other, ctx));
    expect(e).toBeInstanceOf(ToolError);
    expect((e as Error).message).toContain(`builds on an ${other.config.arch} machine only`);
    expect((e as Error).message).toContain(`and this machine is ${machine()}`);
    expect(existsSync(ctx.cache.root)).toBe(false);
    expect(existsSync(join(ctx.workspaceRoot, 'dist'))).toBe(false);
  });

  it('--dry-run still previews, after saying the real run would fail here', async () => {
    const ctx = context(true, 'x86_64');
    await buildVariant(source, torch, variant('aarch64', 'dotprod'), ctx);
    expect(ctx.log.lines[0]).toMatch(/^\[dry-run\] vllm-cpu-aarch64@vllm-0\.34: the real run would fail here: vllm-cpu-aarch64@vllm-0\.34 builds on an aarch64 machine only/);
    expect(ctx.log.lines.join('\n')).toMatch(/\[dry-run\] would run \(cwd [^)]*\): .*setup\.py bdist_wheel/);
    expect(existsSync(ctx.cache.root)).toBe(false);
    // On a machine of its arch, no such line.
    const arm = context(true, 'aarch64');
    await buildVariant(source, torch, variant('aarch64', 'dotprod'), arm);
    expect(arm.log.lines.join('\n')).not.toContain('the real run would fail here');
  });
});
