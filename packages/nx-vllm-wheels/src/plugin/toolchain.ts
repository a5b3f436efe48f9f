import { VERSIONED_GCCS } from '../lib/build/compiler-candidates';

/**
 * The one `runtime` input of the build: what decides the binaries and is not a file in the workspace —
 * machine architecture, C library, the C and C++ compilers CMake will pick (CC/CXX, else cc/c++, and every
 * g++-N/gcc-N the build may pick from PATH when the commit needs a newer GCC), and the exact Python the
 * build venv is made from. It prints no path, user or time, so machines with the same toolchain share cache entries.
 */
export function toolchainRuntimeInput(pythonMinor: string, variantEnv: Readonly<Record<string, string>> = {}): string {
  const versioned = VERSIONED_GCCS.flatMap((c) => [c.cxx, c.cc]).join(' ');
  // wheel.json's env wins over the caller's CC/CXX in the build (buildEnv): then its compiler's version is hashed, not only its name.
  const compiler = (variable: 'CC' | 'CXX', fallback: string) =>
    variantEnv[variable] !== undefined ? `(${shellWord(variantEnv[variable])} --version 2>&1 | head -n 1)` : `(\${${variable}:-${fallback}} --version 2>&1 | head -n 1)`;
  return [
    'uname -m',
    '(ldd --version 2>&1 | head -n 1)',
    compiler('CC', 'cc'),
    compiler('CXX', 'c++'),
    // Only those that exist (`command -v` is a shell builtin): a machine without any prints nothing.
    `(for c in ${versioned}; do if command -v $c >/dev/null 2>&1; then $c --version 2>&1 | head -n 1; fi; done)`,
    // The interpreter findPython picks: python3.X, else python3 if it is 3.X. Isolated and without `site`
    // or `platform`: Nx runs this on every run that hashes a build, and site-packages' .pth files and
    // platform's imports cost more than the answer (decision 55).
    `(for p in python${pythonMinor} python3; do $p -I -S -c 'import sys; assert "%d.%d" % sys.version_info[:2] == "${pythonMinor}"; print(sys.implementation.name, sys.version.split()[0])' 2>/dev/null && break; done || echo no python${pythonMinor})`,
  ].join(' && ');
}

/** A value as one shell word: bare when it is plain, else single-quoted. */
function shellWord(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * The ROCm build's runtime input: the toolchain above, and the ROCm the build finds (lib/rocm/toolchain.ts:
 * hipcc in $ROCM_PATH, default /opt/rocm, else on PATH): ROCm's version file and hipcc's first line (its HIP
 * version). A machine without ROCm prints that it has none (its build fails anyway).
 */
export function rocmRuntimeInput(pythonMinor: string, variantEnv: Readonly<Record<string, string>> = {}): string {
  const root = '"${ROCM_PATH:-/opt/rocm}"';
  return [
    toolchainRuntimeInput(pythonMinor, variantEnv),
    `(cat ${root}/.info/version 2>/dev/null || echo no rocm version)`,
    `(h=${root}/bin/hipcc; [ -x "$h" ] || h=$(command -v hipcc) || h=; if [ -n "$h" ]; then "$h" --version 2>&1 | head -n 1; else echo no hipcc; fi)`,
  ].join(' && ');
}
