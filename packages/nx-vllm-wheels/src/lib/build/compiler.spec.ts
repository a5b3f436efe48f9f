import { chmodSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { writeCompilerShim } from '../../test-support/compiler-shim';
import { rejection } from '../../test-support/rejection';
import { tempDir } from '../../test-support/temp';
import { V0_16_0_CPU_EXTENSION, V0_16_0_SETUP_PY, V0_34_0_CPU_EXTENSION, V0_34_0_SETUP_PY } from '../../test-support/upstream-vllm';
import { ToolError } from '../errors';
import { commitProfile } from './commit-profile';
import { compareVersions, compilerNeed, probeCompiler, selectCompiler, type CompilerNeed } from './compiler';

const v016 = commitProfile({ cmake: V0_16_0_CPU_EXTENSION, setupPy: V0_16_0_SETUP_PY, where: 'v0.16.0' });
const v034 = commitProfile({ cmake: V0_34_0_CPU_EXTENSION, setupPy: V0_34_0_SETUP_PY, where: 'v0.34.0' });
const COMMIT = '89a77b10846fd96273cce78d86d2556ea582d26e';
const FILE = 'packages/vllm-cpu/wheel.json';

/**
 * A PATH of only `c++`/`cc` answering as `defaultVersion` and the given shims, so the compilers this
 * machine has do not decide the test (the shims need nothing from PATH).
 */
function pathWith(defaultVersion: string, shims: { version: string; names?: { cxx: string; cc: string }; flavour?: 'gnu' | 'clang' }[]): string {
  const dir = tempDir('compiler-bin');
  writeCompilerShim(dir, { version: defaultVersion, names: { cxx: 'c++', cc: 'cc' } });
  for (const shim of shims) writeCompilerShim(dir, shim);
  return dir;
}

const NEED_12_3: CompilerNeed = { minVersion: '12.3', forWhat: 'for x86_64', why: 'for x86_64 (below it cmake/cpu_extension.cmake stops configuring, line 5)' };
const select = (PATH: string, variantEnv: Record<string, string> = {}, extra: Record<string, string> = {}) =>
  selectCompiler({ need: NEED_12_3, variantEnv, env: { PATH, ...extra }, cwd: tempDir('compiler-cwd'), configFile: FILE, commit: COMMIT });

describe('compilerNeed', () => {
  it('asks GNU >= 12.3 of every x86_64 variant of the unified v0.34.0', () => {
    expect(compilerNeed(v034, { arch: 'x86_64', isa: 'avx2' })).toEqual({
      minVersion: '12.3',
      forWhat: 'for x86_64',
      why: expect.stringMatching(/^for x86_64 \(below it cmake\/cpu_extension\.cmake stops configuring, line \d+\)$/),
    });
  });

  it('asks it on v0.16.0 only of the levels its warnings would drop', () => {
    expect(compilerNeed(v016, { arch: 'x86_64', isa: 'avx2' })).toBeUndefined();
    expect(compilerNeed(v016, { arch: 'x86_64', isa: 'avx512' })).toBeUndefined();
    expect(compilerNeed(v016, { arch: 'x86_64', isa: 'avx512vnni' })).toMatchObject({ minVersion: '12.3', forWhat: 'for avx512vnni', why: expect.stringContaining('turns avx512vnni off with a warning') });
    expect(compilerNeed(v016, { arch: 'x86_64', isa: 'amxbf16' })?.why).toContain('turns avx512vnni, avx512bf16, amxbf16 off with a warning');
  });

  it('compares versions by number', () => {
    expect(compareVersions('13.2.0', '12.3')).toBe(1);
    expect(compareVersions('12.2.0', '12.3')).toBe(-1);
    expect(compareVersions('12.3', '12.3.0')).toBe(0);
    expect(compareVersions('12.10', '12.3')).toBe(1);
  });
});

describe('probeCompiler', () => {
  it('tells GNU from clang by --version, and reads -dumpfullversion', async () => {
    const PATH = pathWith('12.2.0', [{ version: '13.2.0' }, { version: '17.0.6', names: { cxx: 'clang++', cc: 'clang' }, flavour: 'clang' }]);
    const opts = { env: { PATH }, cwd: tempDir('probe') };
    await expect(probeCompiler('g++-13', opts)).resolves.toEqual({ program: 'g++-13', found: true, gnu: true, version: '13.2.0', banner: 'g++-13 (vllm-wheels test double over GCC 12.2.0) 13.2.0' });
    await expect(probeCompiler('clang++', opts)).resolves.toMatchObject({ found: true, gnu: false, banner: expect.stringMatching(/^clang version 17\.0\.6/) });
    await expect(probeCompiler('g++-99', opts)).resolves.toEqual({ program: 'g++-99', found: false, gnu: false });
  });
});

describe('selectCompiler', () => {
  it('refuses GCC 12.2 when 12.3 is required and picks g++-13 from PATH, with gcc-13 beside it', async () => {
    const choice = await select(pathWith('12.2.0', [{ version: '13.2.0' }]));
    expect(choice).toMatchObject({ cxx: 'g++-13', cc: 'gcc-13', version: '13.2.0', env: { CXX: 'g++-13', CC: 'gcc-13' } });
    expect(choice.message).toBe('compiler: g++-13 (GNU 13.2.0); vLLM 89a77b10846f needs GNU >= 12.3 for x86_64');
  });

  it('prefers the newest versioned GCC, and c++ itself when it satisfies', async () => {
    await expect(select(pathWith('12.2.0', [{ version: '13.2.0' }, { version: '14.1.0' }]))).resolves.toMatchObject({ cxx: 'g++-14', cc: 'gcc-14' });
    await expect(select(pathWith('12.3.0', [{ version: '14.1.0' }]))).resolves.toMatchObject({ cxx: 'c++', cc: 'cc', version: '12.3.0' });
  });

  it('honours CXX/CC: wheel.json env first, then the environment of nx', async () => {
    const PATH = pathWith('12.2.0', [{ version: '13.2.0' }, { version: '14.1.0' }]);
    const fromWheel = await select(PATH, { CXX: 'g++-13', CC: 'gcc-13' }, { CXX: 'g++-14' });
    expect(fromWheel).toMatchObject({ cxx: 'g++-13', cc: 'gcc-13', env: { CXX: 'g++-13', CC: 'gcc-13' } });
    expect(fromWheel.message).toBe(`compiler: g++-13 (GNU 13.2.0, ${FILE} env.CXX); vLLM 89a77b10846f needs GNU >= 12.3 for x86_64`);
    // CXX alone: its own gcc is paired with it.
    await expect(select(PATH, {}, { CXX: 'g++-13' })).resolves.toMatchObject({ cxx: 'g++-13', cc: 'gcc-13', from: 'CXX in the environment of nx' });
  });

  it('fails on a CXX that does not satisfy rather than pick another, naming it and what is on PATH', async () => {
    const PATH = pathWith('12.2.0', [{ version: '13.2.0' }, { version: '17.0.6', names: { cxx: 'clang++', cc: 'clang' }, flavour: 'clang' }]);
    const e = await rejection(select(PATH, { CXX: 'clang++', CC: 'clang' }));
    expect(e).toBeInstanceOf(ToolError);
    expect((e as Error).message).toBe(
      [
        `${FILE}: vLLM 89a77b10846f needs GNU >= 12.3 for x86_64 (below it cmake/cpu_extension.cmake stops configuring, line 5), and the compiler CXX names does not satisfy it:`,
        `  - clang++ (${FILE} env.CXX): not GNU (clang version 17.0.6 (vllm-wheels test double over GCC 12.2.0))`,
        'CXX is set, so no other compiler is tried. On PATH: g++-13 (GNU 13.2.0). Set CXX and CC to a GNU compiler >= 12.3 (e.g. CXX=g++-13 CC=gcc-13), or unset CXX to let the plugin look for one.',
      ].join('\n'),
    );
  });

  it('fails when nothing fits, listing every compiler it asked with its version and how to fix it', async () => {
    const PATH = pathWith('12.2.0', [{ version: '13.1.0', names: { cxx: 'g++-13', cc: 'gcc-13-missing' } }]);
    const e = await rejection(select(PATH));
    expect(e).toBeInstanceOf(ToolError);
    expect((e as Error).message).toBe(
      [
        `${FILE}: vLLM 89a77b10846f needs GNU >= 12.3 for x86_64 (below it cmake/cpu_extension.cmake stops configuring, line 5), and no compiler here satisfies it:`,
        '  - c++: GNU 12.2.0, older than 12.3',
        '  - g++-15: not found',
        '  - g++-14: not found',
        '  - g++-13: GNU 13.1.0, but gcc-13 is not on PATH',
        `Install GCC >= 12.3 so that one of g++-15, g++-14, g++-13 (with its gcc-N) is on PATH (e.g. the g++-13 package of Debian 13 or Ubuntu 24.04), or set CXX and CC to one (in the environment of nx, or in ${FILE} "env").`,
      ].join('\n'),
    );
  });

  it('does not take a compiler whose --version fails or prints no version for GNU', async () => {
    const dir = tempDir('compiler-broken');
    writeFileSync(join(dir, 'g++-13'), '#!/bin/sh\necho "g++-13: fatal: no input files" >&2\nexit 1\n');
    writeFileSync(join(dir, 'gcc-13'), '#!/bin/sh\nexit 1\n');
    chmodSync(join(dir, 'g++-13'), 0o755);
    chmodSync(join(dir, 'gcc-13'), 0o755);
    const e = await rejection(select([dir, pathWith('12.2.0', [])].join(delimiter)));
    expect((e as Error).message).toContain('  - g++-13: not GNU (g++-13: fatal: no input files)');
  });
});
