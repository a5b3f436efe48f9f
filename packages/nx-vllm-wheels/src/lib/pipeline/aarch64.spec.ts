import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { indexConfigSchema, torchConfigSchema, wheelConfigSchema } from '../../config';
import { buildFixtureRawWheel } from '../../test-support/fixture-raw-wheel';
import { rejection } from '../../test-support/rejection';
import { tempDir } from '../../test-support/temp';
import { testCacheRoot, testToolsVenv } from '../../test-support/tools';
import { machineCache } from '../cache-dir';
import type { AuditReport } from '../isa';
import { crossToolchain } from '../isa/test-support/aarch64';
import { recordingLogger } from '../log';
import { run } from '../process';
import { ZipReader } from '../wheel';
import { buildWheelIndex, normalizeVariant, type StepContext, type VariantSpec } from '.';

const tools = crossToolchain();
const cross = 'ok' in tools ? describe : describe.skip;

const ARM = 'vllm-cpu-aarch64@vllm-0.34';
const X86 = 'vllm-cpu@vllm-0.34';

/** The ELF machine of a wheel member (e_machine: 62 x86-64, 183 aarch64). */
async function elfMachine(wheel: string, member: string): Promise<number> {
  const zip = await ZipReader.open(wheel);
  try {
    return (await zip.readBuffer(zip.get(member)!, 1 << 30)).readUInt16LE(18);
  } finally {
    await zip.close();
  }
}

cross(`aarch64 wheels made on this x86-64 machine (the fixture cross-compiled)${'skip' in tools ? ` (skipped: ${tools.skip})` : ''}`, () => {
  let ctx: StepContext & { log: ReturnType<typeof recordingLogger> };
  const variant = (name: string, arch: 'x86_64' | 'aarch64', isa: string): VariantSpec => {
    const folder = name.split('@')[0];
    mkdirSync(join(ctx.workspaceRoot, 'packages/vllm-0.34', folder), { recursive: true });
    writeFileSync(join(ctx.workspaceRoot, 'packages/vllm-0.34', folder, 'README.md'), `# vllm-cpu (${arch})\n`);
    return {
      name,
      configFile: `packages/vllm-0.34/${folder}/wheel.json`,
      config: wheelConfigSchema.parse({ distribution: 'vllm-cpu', device: 'cpu', arch, isa, systemLibraries: ['libgomp.so.1'] }),
    };
  };
  const raw = (name: string) => join(ctx.workspaceRoot, 'dist/raw', name);

  beforeAll(async () => {
    const root = tempDir('aarch64-ws');
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, VLLM_WHEELS_CACHE_DIR: testCacheRoot() };
    ctx = { workspaceRoot: root, env, cache: machineCache(env), log: recordingLogger(), dryRun: false, host: 'x86_64' };
    await testToolsVenv();
    await buildFixtureRawWheel({ outDir: raw(ARM), arch: 'aarch64', isa: 'dotprod' });
    await buildFixtureRawWheel({ outDir: raw(X86), arch: 'x86_64', isa: 'avx2' });
  }, 900_000);

  it('the wheel step tags, renames and audits the aarch64 build: manylinux aarch64, the platform plugin, its _C at dotprod read by the cross objdump', async () => {
    expect(readdirSync(raw(ARM))).toEqual(['build-info.json', 'vllm-0.34.0+cpu-cp38-abi3-linux_aarch64.whl']);
    const wheel = (await normalizeVariant(variant(ARM, 'aarch64', 'dotprod'), ctx)) as string;
    // The honest tag auditwheel computes for aarch64 here, with its legacy alias.
    expect(wheel).toMatch(/\/dist\/wheels\/vllm-cpu-aarch64@vllm-0\.34\/vllm_cpu-0\.34\.0-cp38-abi3-manylinux_2_17_aarch64\.manylinux2014_aarch64\.whl$/);
    expect(await elfMachine(wheel, 'vllm/_C.abi3.so')).toBe(183);
    const zip = await ZipReader.open(wheel);
    const members = zip.entries.map((e) => e.name);
    await zip.close();
    expect(members).toEqual(expect.arrayContaining(['_vllm_cpu_platform.py', 'vllm/_C.abi3.so', 'vllm/libs/libvllm_fixture_alloc.so']));
    expect(members).not.toContain('vllm/_C_AVX2.abi3.so'); // one _C on aarch64, as upstream
    const report = JSON.parse(readFileSync(`${wheel}.isa-audit.json`, 'utf8')) as AuditReport;
    expect(report.ok).toBe(true);
    expect(report.libraries.map((l) => [l.path, l.highest])).toEqual([
      ['vllm/_C.abi3.so', 'dotprod'],
      ['vllm/libs/libvllm_fixture_alloc.so', null],
    ]);
    expect(report.libraries[0].extensions).toMatchObject({ fp16: expect.any(Number), bf16: 0, i8mm: 0, sve: 0 });
    expect(ctx.log.lines).toContain(
      `> ${ARM}: ISA audit (declared dotprod; unified build: every library <= dotprod, and one reaches it; the Arm Compute Library (arm_compute::, arm_gemm::) picks its kernels at run time and is counted apart)`,
    );
    expect(report.dispatchedCode).toEqual(['Arm Compute Library (arm_compute::, arm_gemm::)']);
    expect(ctx.log.lines).toContain('  vllm/libs/libvllm_fixture_alloc.so: highest baseline aarch64');
  }, 600_000);

  it('refuses an i8mm build declared dotprod (the leak a Graviton3 build host would cause), writing nothing', async () => {
    const name = 'vllm-cpu-leak@vllm-0.34';
    await buildFixtureRawWheel({ outDir: raw(name), arch: 'aarch64', isa: 'i8mm' });
    const e = await rejection(normalizeVariant(variant(name, 'aarch64', 'dotprod'), ctx));
    expect((e as Error).message).toMatch(/^vllm_cpu-0\.34\.0-cp38-abi3-manylinux_2_17_aarch64\.manylinux2014_aarch64\.whl declares isa dotprod, but:\n {2}- vllm\/_C\.abi3\.so uses bf16 \(\d+ instructions\), e\.g\. in vllm_fixture::kernel_bf16\(float const\*, float const\*\): bfcvtn v/);
    expect((e as Error).message).toMatch(/\n {2}- vllm\/_C\.abi3\.so uses i8mm \(1 instruction\), e\.g\. in vllm_fixture::kernel_i8mm\(signed char const\*, signed char const\*\): smmla v\d+\.4s/);
    expect(readdirSync(join(ctx.workspaceRoot, 'dist/wheels')).includes('vllm-cpu-leak@vllm-0.34') && readdirSync(join(ctx.workspaceRoot, 'dist/wheels/vllm-cpu-leak@vllm-0.34'))).toBeFalsy();
    // Declared at its level, the same build passes.
    expect(await normalizeVariant(variant(name, 'aarch64', 'i8mm'), ctx)).toMatch(/_aarch64\.whl$/);
  }, 600_000);

  it('the index serves one project with both platforms, and pip and uv each take the file of the platform asked for', async () => {
    await normalizeVariant(variant(ARM, 'aarch64', 'dotprod'), ctx);
    await normalizeVariant(variant(X86, 'x86_64', 'avx2'), ctx);
    const state = await buildWheelIndex(
      { name: 'wheel-index', configFile: 'packages/wheel-index/index.json', config: indexConfigSchema.parse({}), variants: [ARM, X86] },
      { configFile: 'packages/torch-cpu/torch.json', config: torchConfigSchema.parse({ python: '3.11' }) },
      ctx,
    );
    expect(state!.files.map((f) => [f.project, f.filename])).toEqual([
      ['vllm-cpu', 'vllm_cpu-0.34.0-cp38-abi3-manylinux_2_17_aarch64.manylinux2014_aarch64.whl'],
      ['vllm-cpu', expect.stringMatching(/^vllm_cpu-0\.34\.0-cp38-abi3-manylinux_2_\d+_x86_64\..*x86_64\.whl$/)],
    ]);
    const simple = `file://${join(ctx.workspaceRoot, 'dist/index/simple')}/`;
    const { python, bin } = await testToolsVenv();
    const pick = async (platform: string) => {
      const dest = tempDir('aarch64-pip');
      await run(python, ['-m', 'pip', 'download', '--no-deps', '--only-binary', ':all:', '--platform', platform, '--python-version', '3.11', '--index-url', simple, '--dest', dest, 'vllm-cpu==0.34.0'], {
        cwd: dest,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, PIP_CONFIG_FILE: '/dev/null', PIP_DISABLE_PIP_VERSION_CHECK: '1' },
        timeoutMs: 120_000,
      });
      return readdirSync(dest);
    };
    // pip expands a legacy manylinux2014 platform to the older policies (not a manylinux_2_28 one).
    expect(await pick('manylinux2014_aarch64')).toEqual([state!.files[0].filename]);
    expect(await pick('manylinux2014_x86_64')).toEqual([state!.files[1].filename]);
    // uv, for an aarch64 target, unpacks the aarch64 libraries (installed into a directory, never run here).
    for (const [platform, machine] of [['aarch64-unknown-linux-gnu', 183], ['x86_64-unknown-linux-gnu', 62]] as const) {
      const target = tempDir('aarch64-uv');
      await run(bin('uv'), ['pip', 'install', '--no-deps', '--no-config', '--python-platform', platform, '--python-version', '3.11', '--index-url', simple, '--target', target, 'vllm-cpu==0.34.0'], {
        cwd: target,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, UV_CACHE_DIR: join(testCacheRoot(), 'uv') },
        timeoutMs: 120_000,
      });
      expect([platform, readFileSync(join(target, 'vllm/_C.abi3.so')).readUInt16LE(18)]).toEqual([platform, machine]);
      expect(existsSync(join(target, '_vllm_cpu_platform.py'))).toBe(true);
    }
  }, 600_000);
});
