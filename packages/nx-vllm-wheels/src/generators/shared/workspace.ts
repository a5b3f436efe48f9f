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
