import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(__dirname, '../../../..');
export const NX_BIN = join(REPO_ROOT, 'node_modules/nx/dist/bin/nx.js');
/** Downloads that tests may reuse between runs (pip's cache); never the user's own caches. */
export const TEST_CACHE = process.env.VLLM_WHEELS_TEST_CACHE ?? join(homedir(), '.cache', 'vllm-wheels-tests');

export function assertPluginBuilt(): void {
  if (!existsSync(join(REPO_ROOT, 'packages/nx-vllm-wheels/dist/index.js'))) {
    throw new Error('The plugin is not built: run `npm run build` (or `npm test`, which builds first).');
  }
}
