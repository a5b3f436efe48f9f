/**
 * The environment of the verifying pip and uv: the user's network settings (proxies, certificates,
 * timeouts, caches) kept, everything that would make them install from somewhere else dropped.
 */
import { changesResolution, PIP_NETWORK, pipVar } from '../python/resolution-env';

/**
 * Would make python, pip or uv act on another interpreter or leak packages into the check; or colour
 * their output (Nx sets FORCE_COLOR for its tasks), which the failure reasons are read from.
 */
const DROPPED = new Set(['VIRTUAL_ENV', 'CONDA_PREFIX', 'PYTHONHOME', 'PYTHONPATH', 'PYTHONSTARTUP', 'PYTHONUSERBASE', 'FORCE_COLOR', 'CLICOLOR_FORCE', 'PY_COLORS']);

/**
 * Network settings from `pip config list` output (`global.cert='/etc/ssl/…'`), as PIP_* variables:
 * the verify env loads no pip config file, so a certificate or proxy set in pip.conf is carried over
 * this way (and index-url, find-links & co. are not).
 */
export function pipNetworkSettings(configList: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of configList.split('\n')) {
    const m = /^[^.=\s]+\.([a-z-]+)=(.*)$/.exec(line.trim());
    if (!m || !(PIP_NETWORK as readonly string[]).includes(m[1])) continue;
    let value = m[2].trim();
    if (/^(['"]).*\1$/.test(value)) value = value.slice(1, -1);
    out[pipVar(m[1])] = value.replace(/\\n/g, ' ').trim();
  }
  return out;
}

export interface InstallerEnvOptions {
  /** An empty directory: uv's user and system config are looked up there (XDG_CONFIG_HOME/DIRS), so none is found. */
  readonly emptyConfigDir: string;
  /** From pipNetworkSettings: applied unless the user's environment sets the same variable. */
  readonly pipNetwork?: Record<string, string>;
}

/**
 * The user's environment without PIP_* and UV_* variables that choose where packages come from
 * (PIP_INDEX_URL, PIP_EXTRA_INDEX_URL, PIP_FIND_LINKS, UV_INDEX, UV_TORCH_BACKEND, …), without pip's
 * config files (PIP_CONFIG_FILE=/dev/null) and uv's (found under an empty XDG dir), and without an
 * active venv or PYTHONPATH. Proxies (HTTP(S)_PROXY, NO_PROXY), certificates (SSL_CERT_FILE,
 * REQUESTS_CA_BUNDLE, PIP_CERT) and caches are kept.
 */
export function installerEnv(userEnv: Record<string, string | undefined>, options: InstallerEnvOptions): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(userEnv)) {
    if (changesResolution(k)) continue;
    if (DROPPED.has(k)) continue;
    env[k] = v;
  }
  for (const [k, v] of Object.entries(options.pipNetwork ?? {})) env[k] ??= v;
  return {
    ...env,
    PIP_CONFIG_FILE: '/dev/null',
    PIP_NO_INPUT: '1',
    PIP_DISABLE_PIP_VERSION_CHECK: '1',
    PYTHONNOUSERSITE: '1',
    XDG_CONFIG_HOME: options.emptyConfigDir,
    XDG_CONFIG_DIRS: options.emptyConfigDir,
    UV_PYTHON_DOWNLOADS: 'never',
    NO_COLOR: '1',
  };
}
