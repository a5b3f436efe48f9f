import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { torchConfigSchema, wheelConfigSchema } from '../../config';
import { tempDir } from '../../test-support/temp';
import { writeTestWheel } from '../../test-support/test-wheel';
import { machineCache } from '../cache-dir';
import { ConfigError, ToolError } from '../errors';
import { recordingLogger } from '../log';
import type { StepContext, TorchSpec, VariantSpec } from './context';
import { buildVariantWheelhouse, pytorchRequirements } from './wheelhouse';

describe('pytorchRequirements', () => {
  it("keeps the wheel's requirements on torch, torchvision and torchaudio (markers and all), nothing else", () => {
    expect(
      pytorchRequirements(['torch==2.8.0+cpu; platform_machine == "x86_64"', 'TorchAudio>=2', 'torch_audio', 'torchvision; platform_machine != "s390x"', 'torchao>=0.1', 'numpy', 'torch-c-dlpack-ext', 'xgrammar; extra == "grammar"']),
    ).toEqual(['torch==2.8.0+cpu; platform_machine == "x86_64"', 'TorchAudio>=2', 'torchvision; platform_machine != "s390x"']);
  });
});

describe('buildVariantWheelhouse refuses before resolving anything', () => {
  const root = tempDir('wheelhouse-step');
  const env = { PATH: process.env.PATH, VLLM_WHEELS_CACHE_DIR: join(root, 'cache') };
  const ctx = (extra: Partial<StepContext> = {}): StepContext => ({ workspaceRoot: root, env, cache: machineCache(env), log: recordingLogger(), dryRun: false, host: 'x86_64', ...extra });
  const variant = (extra: Record<string, unknown> = {}): VariantSpec => ({
    name: 'vllm-cpu',
    configFile: 'packages/vllm-cpu/wheel.json',
    config: wheelConfigSchema.parse({ distribution: 'vllm-cpu', device: 'cpu', arch: 'x86_64', isa: 'avx2', ...extra }),
  });
  const torch: TorchSpec = { configFile: 'packages/torch-cpu/torch.json', config: torchConfigSchema.parse({ python: '3.11' }) };

  it('an aarch64 variant on an x86_64 machine (the closure is resolved for the machine’s own Python)', async () => {
    const arm = { ...variant({ arch: 'aarch64', isa: 'armv8' }), name: 'vllm-cpu-aarch64' };
    await expect(buildVariantWheelhouse(arm, torch, ctx())).rejects.toThrow(new ToolError(
      "vllm-cpu-aarch64's wheelhouse is resolved for the machine's own Python, and vllm-cpu-aarch64 is an aarch64 variant (packages/vllm-cpu/wheel.json \"arch\") on this x86_64 machine: run `nx run vllm-cpu-aarch64:wheelhouse` on aarch64.",
    ));
  });

  it('no wheel in dist/wheels/<variant>', async () => {
    await expect(buildVariantWheelhouse(variant(), torch, ctx())).rejects.toThrow(
      'dist/wheels/vllm-cpu holds no wheel: the wheelhouse is made from the one wheel `nx run vllm-cpu:wheel` leaves there.',
    );
  });

  it('a constraints file that does not exist, naming the file and the field', async () => {
    mkdirSync(join(root, 'packages', 'vllm-cpu'), { recursive: true });
    await writeTestWheel(join(root, 'dist', 'wheels', 'vllm-cpu'), 'vllm-cpu', '0.16.0');
    const e = buildVariantWheelhouse(variant({ wheelhouse: { constraints: 'pins.txt' } }), torch, ctx());
    await expect(e).rejects.toThrow(ConfigError);
    await expect(e).rejects.toThrow('packages/vllm-cpu/wheel.json:\n  - wheelhouse.constraints: packages/vllm-cpu/pins.txt does not exist');
    expect(existsSync(join(root, 'dist', 'wheelhouse'))).toBe(false);
  });

  it('--dry-run prints the three pip steps (base from the torch index alone, the resolution, the fetch) and writes nothing', async () => {
    const dry = ctx({ dryRun: true, workspaceRoot: tempDir('wheelhouse-dry') });
    expect(await buildVariantWheelhouse(variant(), torch, dry)).toBeUndefined();
    const text = (dry.log as ReturnType<typeof recordingLogger>).lines.join('\n');
    expect(text).toMatch(/pip install --no-deps --report \S+ --index-url https:\/\/download\.pytorch\.org\/whl\/cpu '<torch as the wheel requires it>'/);
    expect(text).toMatch(/pip install --dry-run --report \S+report\.json \S+<the wheel of vllm-cpu>/);
    expect(text).toMatch(/pip wheel --no-deps --require-hashes --wheel-dir \S+dist\/wheelhouse\/vllm-cpu --requirement \S+collect\.txt/);
    expect(existsSync(join(dry.workspaceRoot, 'dist'))).toBe(false);
  });
});
