import { VERSIONED_GCCS } from '../lib/build/compiler-candidates';

/**
 * The one `runtime` input of the build: what decides the binaries and is not a file in the workspace —
 * machine architecture, C library, the C and C++ compilers CMake will pick (CC/CXX, else cc/c++, and every
 * g++-N/gcc-N the build may pick from PATH when the commit needs a newer GCC), and the exact Python the
 * build venv is made from. It prints no path, user or time, so machines with the same toolchain share cache entries.
 */
export function toolchainRuntimeInput(pythonMinor: string): string {
  const versioned = VERSIONED_GCCS.flatMap((c) => [c.cxx, c.cc]).join(' ');
  return [
    'uname -m',
    '(ldd --version 2>&1 | head -n 1)',
    '(${CC:-cc} --version 2>&1 | head -n 1)',
    '(${CXX:-c++} --version 2>&1 | head -n 1)',
    // Only those that exist (`command -v` is a shell builtin): a machine without any prints nothing.
    `(for c in ${versioned}; do if command -v $c >/dev/null 2>&1; then $c --version 2>&1 | head -n 1; fi; done)`,
    // The interpreter findPython picks: python3.X, else python3 if it is 3.X. Isolated and without `site`
    // or `platform`: Nx runs this on every run that hashes a build, and site-packages' .pth files and
    // platform's imports cost more than the answer (decision 55).
    `(for p in python${pythonMinor} python3; do $p -I -S -c 'import sys; assert "%d.%d" % sys.version_info[:2] == "${pythonMinor}"; print(sys.implementation.name, sys.version.split()[0])' 2>/dev/null && break; done || echo no python${pythonMinor})`,
  ].join(' && ');
}
