import { readNxJson, updateNxJson, type Tree } from '@nx/devkit';

export const PLUGIN = 'nx-vllm-wheels';

/** Adds the plugin to nx.json's plugins unless it is there (as a name or as { plugin }). True when it changed nx.json. */
export function registerPlugin(tree: Tree): boolean {
  const nxJson = readNxJson(tree) ?? {};
  const plugins = nxJson.plugins ?? [];
  if (plugins.some((p) => (typeof p === 'string' ? p : p.plugin) === PLUGIN)) return false;
  updateNxJson(tree, { ...nxJson, plugins: [...plugins, PLUGIN] });
  return true;
}

/** Appends the entries .gitignore lacks (an entry counts with or without its leading or trailing slash). Returns the added ones. */
export function ensureGitignore(tree: Tree, entries: readonly string[]): string[] {
  const text = tree.exists('.gitignore') ? (tree.read('.gitignore', 'utf8') ?? '') : '';
  const norm = (line: string) => line.trim().replace(/^\//, '').replace(/\/$/, '');
  const present = new Set(text.split('\n').map(norm));
  const missing = entries.filter((e) => !present.has(norm(e)));
  if (missing.length) tree.write('.gitignore', `${text}${text && !text.endsWith('\n') ? '\n' : ''}${missing.join('\n')}\n`);
  return missing;
}

/** Every source of the workspace: packages/<name>/vllm.json. */
export function sourcesOf(tree: Tree): string[] {
  if (!tree.exists('packages')) return [];
  return tree
    .children('packages')
    .filter((name) => tree.isFile(`packages/${name}/vllm.json`))
    .sort();
}

/**
 * Once a workspace has a second source, each flat variant (packages/<name>/wheel.json) must name the
 * one it builds from: those without `"source"` get the workspace's first source, the one they were built
 * from until now. Returns the report lines; a file that is not a JSON object is left for inference to report.
 */
export function nameSourceOfFlatVariants(tree: Tree, previousSource: string): string[] {
  const lines: string[] = [];
  for (const name of tree.children('packages').sort()) {
    const path = `packages/${name}/wheel.json`;
    if (!tree.isFile(path)) continue;
    let config: unknown;
    try {
      config = JSON.parse(tree.read(path, 'utf8') ?? '');
    } catch {
      continue;
    }
    if (typeof config !== 'object' || config === null || Array.isArray(config) || 'source' in config) continue;
    const { distribution, ...rest } = config as Record<string, unknown>;
    const named = distribution === undefined ? { source: previousSource, ...rest } : { distribution, source: previousSource, ...rest };
    tree.write(path, `${JSON.stringify(named, null, 2)}\n`);
    lines.push(`${path}: added "source": "${previousSource}" (a flat variant names its source once the workspace has several)`);
  }
  return lines;
}
