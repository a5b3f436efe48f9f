/**
 * The `runtime` input of a wheelhouse: what decides which files a resolution picks and is not a file in the
 * workspace — machine architecture and C library (wheel tags), the exact Python the resolution venv is made
 * from (markers) and the pip that venv gets (ensurepip's).
 */
export function resolutionRuntimeInput(pythonMinor: string): string {
  return [
    'uname -m',
    '(ldd --version 2>&1 | head -n 1)',
    `(for p in python${pythonMinor} python3; do $p -c 'import ensurepip, platform, sys; assert "%d.%d" % sys.version_info[:2] == "${pythonMinor}"; print(platform.python_implementation(), platform.python_version(), "pip", ensurepip.version())' 2>/dev/null && break; done || echo no python${pythonMinor})`,
  ].join(' && ');
}
