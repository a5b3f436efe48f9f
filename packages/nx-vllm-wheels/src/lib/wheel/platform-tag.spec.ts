import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../test-support/temp';
import { testToolsVenv } from '../../test-support/tools';
import { WheelError } from '../errors';
import type { ToolsVenv } from '../tools';
import { analyzePlatform, ANALYZE_WHEEL_SCRIPT, choosePlatformTag, type PlatformAnalysis, TORCH_LIBRARY_EXCLUDES } from './platform-tag';
import { renameWheel } from './rename';
import { buildLibFoo, buildNativeWheel, fixtureTorchLibs } from './test-support/native';
import { runPython } from './test-support/python';
import { validateWheel } from './validate';

/** This machine's glibc (Debian 12: 2.36). */
async function hostGlibc(): Promise<[number, number]> {
  const { stdout } = await runPython(['-c', 'import os; print(os.confstr("CS_GNU_LIBC_VERSION"))'], { cwd: '/' });
  const [, major, minor] = /glibc (\d+)\.(\d+)/.exec(stdout)!;
  return [Number(major), Number(minor)];
}

const glibcOf = (tag: string): [number, number] => {
  const [, major, minor] = /^manylinux_(\d+)_(\d+)_x86_64$/.exec(tag)!;
  return [Number(major), Number(minor)];
};

function refusal(analysis: PlatformAnalysis, policy: string): string {
  try {
    choosePlatformTag(analysis, policy);
  } catch (e) {
    expect(e).toBeInstanceOf(WheelError);
    return (e as Error).message;
  }
  throw new Error(`choosePlatformTag(${policy}) did not refuse`);
}

describe('analyzePlatform and choosePlatformTag, with real compiled libraries', () => {
  let tools: ToolsVenv;
  let torchLib: string;
  let fooLib: string;
  /** Links the fixture torch's libtorch_cpu.so (and so libc10.so) and libstdc++, uses a GLIBC_2.34 symbol. */
  let torchWheel: string;
  /** Links a local libfoo.so.1 besides libstdc++; nothing newer than the C++11 ABI. */
  let fooWheel: string;
  const analyze = (wheel: string, exclude: readonly string[]) =>
    analyzePlatform({ wheel, toolsPython: tools.python, exclude, env: { PATH: process.env.PATH, LANG: 'C.UTF-8' }, timeoutMs: 120_000 });

  beforeAll(async () => {
    tools = await testToolsVenv();
    const root = tempDir('platform');
    torchLib = await fixtureTorchLibs(join(root, 'torch'));
    fooLib = await buildLibFoo(join(root, 'foo'));
    torchWheel = await buildNativeWheel(join(root, 'torch-ext'), { link: [{ dir: torchLib, name: 'torch_cpu' }], glibc234: true });
    fooWheel = await buildNativeWheel(join(root, 'foo-ext'), { link: [{ dir: fooLib, name: 'foo' }] });
  }, 900_000);

  it('ships its analysis script inside the package', () => {
    expect(existsSync(ANALYZE_WHEEL_SCRIPT)).toBe(true);
    expect(ANALYZE_WHEEL_SCRIPT.endsWith('packages/nx-vllm-wheels/python/analyze_wheel.py')).toBe(true);
  });

  it("with torch's libraries excluded: an honest manylinux tag no newer than this machine's glibc, nothing to graft", async () => {
    const analysis = await analyze(torchWheel, TORCH_LIBRARY_EXCLUDES);
    expect(analysis.auditwheel).toBe('6.8.2');
    expect(analysis.arch).toBe('x86_64');
    // pthread_create@GLIBC_2.34: nothing older than manylinux_2_34 is honest, nothing newer than the host is possible.
    expect(analysis.tag).toBe('manylinux_2_34_x86_64');
    const [[major, minor], [hostMajor, hostMinor]] = [glibcOf(analysis.tag), await hostGlibc()];
    expect(major * 1000 + minor).toBeLessThanOrEqual(hostMajor * 1000 + hostMinor);
    expect(analysis.aliases).toEqual([]);
    expect(analysis.versionedSymbols['libc.so.6']).toContain('GLIBC_2.34');
    expect(Object.keys(analysis.versionedSymbols)).toEqual(expect.arrayContaining(['libc.so.6', 'libstdc++.so.6']));
    expect(analysis.externalLibs).toEqual([]);
    expect(analysis.excluded).toEqual([{ soname: 'libtorch_cpu.so', neededBy: ['tinyext/_ext.abi3.so'] }]);
    // The RUNPATH the link left (an absolute build path): reported as written.
    expect(analysis.rpaths).toEqual({ 'tinyext/_ext.abi3.so': { rpath: [], runpath: [torchLib] } });
    const elf = analysis.elfs.find((e) => e.path === 'tinyext/_ext.abi3.so')!;
    expect(elf.needed).toEqual(expect.arrayContaining(['libtorch_cpu.so', 'libstdc++.so.6', 'libc.so.6']));
    expect(elf.excluded).toEqual(['libtorch_cpu.so']);
    expect(elf.resolved['libstdc++.so.6']).toMatchObject({ inWheel: false });
    expect(analysis.policies.find((p) => p.name === 'manylinux_2_31_x86_64')?.missingSymbols).toEqual(['GLIBC_2.34']);

    expect(choosePlatformTag(analysis, 'auto')).toEqual({ tag: 'manylinux_2_34_x86_64', platformTags: ['manylinux_2_34_x86_64'], warnings: [] });
    // A stricter (newer) promise is still true; linux_x86_64 only when asked for.
    expect(choosePlatformTag(analysis, 'manylinux_2_35_x86_64').platformTags).toEqual(['manylinux_2_35_x86_64']);
    expect(choosePlatformTag(analysis, 'linux_x86_64')).toEqual({ tag: 'linux_x86_64', platformTags: ['linux_x86_64'], warnings: [] });

    // The chosen tag, written by renameWheel: pip accepts it here.
    const retagged = await renameWheel({ input: torchWheel, outputDir: tempDir('platform-out'), distribution: 'tinyext', platformTag: choosePlatformTag(analysis, 'auto').platformTags });
    expect(retagged.fileName).toBe('tinyext-1.0-cp38-abi3-manylinux_2_34_x86_64.whl');
    await validateWheel(retagged.path);
    const target = tempDir('platform-target');
    await runPython(['-m', 'pip', 'install', '--no-deps', '--no-index', '--target', target, retagged.path], { cwd: target, timeoutMs: 300_000 });
    expect(readdirSync(target).sort()).toEqual(['tinyext', 'tinyext-1.0.dist-info']);
  });

  it('without the exclusion: libtorch_cpu.so (and the libc10.so it needs) would have to be grafted, and no manylinux tag is given', async () => {
    const analysis = await analyze(torchWheel, []);
    expect(analysis.tag).toBe('manylinux_2_34_x86_64'); // by symbols alone
    expect(analysis.excluded).toEqual([]);
    expect(analysis.externalLibs).toEqual([
      { soname: 'libc10.so', path: join(torchLib, 'libc10.so'), neededBy: ['libtorch_cpu.so'] },
      { soname: 'libtorch_cpu.so', path: join(torchLib, 'libtorch_cpu.so'), neededBy: ['tinyext/_ext.abi3.so'] },
    ]);
    const message = refusal(analysis, 'auto');
    expect(message).toContain('tinyext-1.0-cp38-abi3-linux_x86_64.whl cannot be tagged manylinux_2_34_x86_64: it needs libraries that are not in the wheel, not allowed by manylinux_2_34_x86_64, and not excluded:');
    expect(message).toContain(`libtorch_cpu.so (needed by tinyext/_ext.abi3.so; found at ${join(torchLib, 'libtorch_cpu.so')})`);
    expect(message).toContain('The plugin does not graft libraries');
    expect(refusal(analysis, 'manylinux_2_36_x86_64')).toContain('libtorch_cpu.so (needed by tinyext/_ext.abi3.so');
    // linux_x86_64 promises nothing: said, not refused.
    expect(choosePlatformTag(analysis, 'linux_x86_64').warnings).toEqual([
      `tinyext-1.0-cp38-abi3-linux_x86_64.whl is tagged linux_x86_64 (not installable from PyPI) and needs libraries from the system: libc10.so (needed by libtorch_cpu.so; found at ${join(torchLib, 'libc10.so')}), libtorch_cpu.so (needed by tinyext/_ext.abi3.so; found at ${join(torchLib, 'libtorch_cpu.so')}).`,
    ]);
  });

  it('refuses an explicit manylinux_2_17_x86_64 for a wheel that needs glibc 2.34 symbols, naming both tags', async () => {
    const analysis = await analyze(torchWheel, TORCH_LIBRARY_EXCLUDES);
    const message = refusal(analysis, 'manylinux_2_17_x86_64');
    expect(message).toMatch(/^platformTag "manylinux_2_17_x86_64" promises more than tinyext-1\.0-cp38-abi3-linux_x86_64\.whl keeps: it uses .*GLIBC_2\.34.*, which manylinux_2_17_x86_64 does not allow\. Its honest tag is manylinux_2_34_x86_64\./);
    expect(refusal(analysis, 'manylinux_2_31_x86_64')).toContain('it uses GLIBC_2.34, which manylinux_2_31_x86_64 does not allow. Its honest tag is manylinux_2_34_x86_64.');
    expect(refusal(analysis, 'manylinux_2_34_aarch64')).toBe(
      'platformTag "manylinux_2_34_aarch64" cannot be used for tinyext-1.0-cp38-abi3-linux_x86_64.whl: its binaries are x86_64; use "auto", "linux_x86_64" or "manylinux_X_Y_x86_64".',
    );
  });

  it('refuses a wheel linking a library no manylinux policy allows (libfoo), naming it', async () => {
    const analysis = await analyze(fooWheel, TORCH_LIBRARY_EXCLUDES);
    expect(analysis.excluded).toEqual([]);
    expect(analysis.externalLibs).toEqual([{ soname: 'libfoo.so.1', path: join(fooLib, 'libfoo.so.1'), neededBy: ['tinyext/_ext.abi3.so'] }]);
    expect(refusal(analysis, 'auto')).toContain(`not excluded: libfoo.so.1 (needed by tinyext/_ext.abi3.so; found at ${join(fooLib, 'libfoo.so.1')})`);
    // Excluding it is the caller's explicit statement that something else provides it at run time.
    const excluded = await analyze(fooWheel, [...TORCH_LIBRARY_EXCLUDES, 'libfoo.so*']);
    expect(choosePlatformTag(excluded, 'auto').tag).toMatch(/^manylinux_2_\d+_x86_64$/);
  });

  it('says why a wheel cannot be analyzed', async () => {
    const notAWheel = join(tempDir('platform-bad'), 'broken-1.0-cp38-abi3-linux_x86_64.whl');
    writeFileSync(notAWheel, 'not a zip');
    await expect(analyze(notAWheel, [])).rejects.toThrow(/^Cannot analyze the binaries of .*broken-1\.0-cp38-abi3-linux_x86_64\.whl: /);
  });
});
