import type { Tree } from '@nx/devkit';

/** Every file under `dir` in the tree, path -> text (for specs). */
export function filesUnder(tree: Tree, dir = 'packages'): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const child of tree.children(d)) {
      const p = `${d}/${child}`;
      if (tree.isFile(p)) out[p] = tree.read(p, 'utf8') ?? '';
      else walk(p);
    }
  };
  if (tree.exists(dir)) walk(dir);
  return out;
}
