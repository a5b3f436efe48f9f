import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { writeCompilerShim } from '../test-support/compiler-shim';
import { tempDir } from '../test-support/temp';
import { createRocmToolchain } from '../../../../tools/fixtures/index.js';
import { rocmRuntimeInput, toolchainRuntimeInput } from './toolchain';

/** Nx runs a runtime input with the shell in the workspace root, and hashes what it prints. */
function runtimeOutput(env: Record<string, string | undefined>, variantEnv: Record<string, string> = {}): string {
  return execFileSync('/bin/sh', ['-c', toolchainRuntimeInput('3.11', variantEnv)], { cwd: tempDir('toolchain-ws'), env, encoding: 'utf8' });
}

/** A directory of fake programs, each printing fixed text (what the real one would print), or failing (null). */
function fakeBin(programs: Record<string, string | null>): string {
  const dir = join(tempDir('toolchain-bin'), 'bin');
  mkdirSync(dir);
  for (const [name, text] of Object.entries(programs)) {
    writeFileSync(join(dir, name), text === null ? '#!/bin/sh\nexit 1\n' : `#!/bin/sh\necho '${text}'\n`);
    chmodSync(join(dir, name), 0o755);
  }
  return dir;
}

const BASE = { PATH: process.env.PATH };

describe('toolchainRuntimeInput', () => {
  it('prints the real toolchain, the same on every call, without paths, user or time', () => {
    const out = runtimeOutput(BASE);
    expect(out).toBe(runtimeOutput(BASE));
    expect(out.split('\n')[0]).toBe(execFileSync('uname', ['-m'], { encoding: 'utf8' }).trim());
    expect(out).toMatch(/^cpython 3\.11\.\d+$/m);
    expect(out).not.toContain('/'); // no path of any kind
  });

  it('changes with the machine architecture and with the compilers CC/CXX name', () => {
    const arm = fakeBin({ uname: 'aarch64' });
    expect(runtimeOutput({ PATH: [arm, BASE.PATH].join(delimiter) }).split('\n')[0]).toBe('aarch64');
    const compilers = fakeBin({ 'gcc-13': 'gcc-13 (Debian 13.2.0-25) 13.2.0', 'g++-13': 'g++-13 (Debian 13.2.0-25) 13.2.0' });
    const withGcc13 = runtimeOutput({ PATH: [compilers, BASE.PATH].join(delimiter), CC: 'gcc-13', CXX: 'g++-13' });
    expect(withGcc13).toContain('gcc-13 (Debian 13.2.0-25) 13.2.0\ng++-13 (Debian 13.2.0-25) 13.2.0\n');
    expect(withGcc13).not.toBe(runtimeOutput(BASE));
  });

  it("hashes the version of the compiler a wheel.json env names (by path or name), over the caller's CC/CXX", () => {
    const v1 = fakeBin({ 'my g++': 'g++ (custom) 13.1.0', 'my gcc': 'gcc (custom) 13.1.0' });
    const v2 = fakeBin({ 'my g++': 'g++ (custom) 13.2.0', 'my gcc': 'gcc (custom) 13.2.0' });
    const named = (bin: string) => ({ CXX: join(bin, 'my g++'), CC: join(bin, 'my gcc') });
    const first = runtimeOutput({ ...BASE, CXX: 'c++', CC: 'cc' }, named(v1));
    expect(first).toContain('gcc (custom) 13.1.0\ng++ (custom) 13.1.0\n');
    // The same path, upgraded: another hash; the caller's CXX does not count while wheel.json names one.
    expect(runtimeOutput(BASE, { ...named(v1), CXX: join(v2, 'my g++') })).toContain('g++ (custom) 13.2.0\n');
    expect(runtimeOutput({ ...BASE, CXX: 'false' }, named(v1))).toBe(first);
    expect(runtimeOutput({ ...BASE, CXX: 'c++' }, {})).not.toBe(first);
  });

  it('changes when a g++-N the build may pick from PATH is installed, or upgraded, even with CC/CXX unset', () => {
    const before = runtimeOutput(BASE);
    const gcc14 = fakeBin({ 'g++-14': 'g++-14 (Debian 14.2.0-19) 14.2.0', 'gcc-14': 'gcc-14 (Debian 14.2.0-19) 14.2.0' });
    const with14 = runtimeOutput({ PATH: [gcc14, BASE.PATH].join(delimiter) });
    expect(with14).toContain('g++-14 (Debian 14.2.0-19) 14.2.0\ngcc-14 (Debian 14.2.0-19) 14.2.0\n');
    expect(with14).not.toBe(before);
    const gcc14Newer = fakeBin({ 'g++-14': 'g++-14 (Debian 14.3.0-1) 14.3.0', 'gcc-14': 'gcc-14 (Debian 14.3.0-1) 14.3.0' });
    expect(runtimeOutput({ PATH: [gcc14Newer, BASE.PATH].join(delimiter) })).not.toBe(with14);
    // The test double of tests/demo prints no path either.
    const shim = tempDir('toolchain-shim');
    writeCompilerShim(shim, { version: '13.2.0' });
    const withShim = runtimeOutput({ PATH: [shim, BASE.PATH].join(delimiter) });
    expect(withShim).toMatch(/^g\+\+-13 \(vllm-wheels test double over GCC [\d.]+\) 13\.2\.0$/m);
    expect(withShim).not.toContain('/');
  });

  it('reports the Python the build venv is made from: python3.11, else a python3 that is 3.11', () => {
    // A python3.11 that fails (as a missing one does) leaves python3: its version enters the hash.
    const only3 = (version: string) => fakeBin({ 'python3.11': null, python3: `CPython ${version}` });
    const a = runtimeOutput({ PATH: [only3('3.11.4'), BASE.PATH].join(delimiter) });
    const b = runtimeOutput({ PATH: [only3('3.11.9'), BASE.PATH].join(delimiter) });
    expect(a).toMatch(/^CPython 3\.11\.4$/m);
    expect(b).toMatch(/^CPython 3\.11\.9$/m);
    const both = fakeBin({ 'python3.11': 'CPython 3.11.7', python3: 'CPython 3.12.1' });
    expect(runtimeOutput({ PATH: [both, BASE.PATH].join(delimiter) })).toMatch(/^CPython 3\.11\.7$/m);
  });

  it('says so when there is no Python of that version at all', () => {
    const none = fakeBin({ 'python3.11': null, python3: null });
    expect(runtimeOutput({ PATH: [none, BASE.PATH].join(delimiter) })).toMatch(/^no python3\.11$/m);
  });
});

describe('rocmRuntimeInput', () => {
  const rocmOutput = (env: Record<string, string | undefined>) => execFileSync('/bin/sh', ['-c', rocmRuntimeInput('3.11')], { cwd: tempDir('toolchain-ws'), env, encoding: 'utf8' });

  it("adds ROCm's version and hipcc's HIP version, without paths, and says when there is none", () => {
    const rocm = createRocmToolchain(tempDir('rocm-71'), { rocmVersion: '7.1.0' });
    const out = rocmOutput({ ...BASE, ROCM_PATH: rocm.root });
    expect(out.startsWith(execFileSync('/bin/sh', ['-c', toolchainRuntimeInput('3.11')], { env: BASE, encoding: 'utf8' }))).toBe(true);
    expect(out.trim().split('\n').slice(-2)).toEqual(['7.1.0-fixture', `HIP version: ${rocm.hipVersion}`]);
    expect(out).not.toContain('/');
    const other = createRocmToolchain(tempDir('rocm-72'), { rocmVersion: '7.2.0' });
    expect(rocmOutput({ ...BASE, ROCM_PATH: other.root })).not.toBe(out);
    expect(rocmOutput({ ...BASE, ROCM_PATH: tempDir('no-rocm') }).trim().split('\n').slice(-2)).toEqual(['no rocm version', 'no hipcc']);
  });
});
