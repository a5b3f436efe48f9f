/**
 * pip and uv read dozens of PIP_* / UV_* variables; most choose where packages come from or which
 * versions win (PIP_EXTRA_INDEX_URL, PIP_FIND_LINKS, PIP_CONSTRAINT, PIP_PRE, UV_INDEX, UV_TORCH_BACKEND…).
 * What they install must follow from our config alone, so only the settings that say how to reach an
 * index (never which one) and where caches live are kept.
 */

/** pip settings that only say how to reach an index, never which one. */
export const PIP_NETWORK = ['cert', 'client-cert', 'proxy', 'trusted-host', 'timeout', 'default-timeout', 'retries'] as const;

export function pipVar(key: string): string {
  return `PIP_${key.toUpperCase().replace(/-/g, '_')}`;
}

// PIP_CONFIG_FILE names pip's config file; the file's own index settings are a known gap (README).
const PIP_KEPT = new Set([...PIP_NETWORK.map(pipVar), 'PIP_CACHE_DIR', 'PIP_NO_CACHE_DIR', 'PIP_CONFIG_FILE']);
const UV_KEPT = new Set(['UV_CACHE_DIR', 'UV_NO_CACHE', 'UV_HTTP_TIMEOUT', 'UV_HTTP_RETRIES', 'UV_NATIVE_TLS', 'UV_INSECURE_HOST', 'UV_CONCURRENT_DOWNLOADS', 'UV_CONCURRENT_INSTALLS', 'UV_CONCURRENT_BUILDS']);

/** True for a PIP_* / UV_* variable that could change what pip or uv resolves. */
export function changesResolution(name: string): boolean {
  return (name.startsWith('PIP_') && !PIP_KEPT.has(name)) || (name.startsWith('UV_') && !UV_KEPT.has(name));
}

/** `env` without the PIP_* / UV_* variables that could change what is resolved (see changesResolution). */
export function withoutResolutionSettings(env: Readonly<Record<string, string | undefined>>): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !changesResolution(k)));
}
