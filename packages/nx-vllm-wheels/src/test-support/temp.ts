import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const created: string[] = [];
// Registered when a spec file imports this module (top level), so tempDir() may be called inside tests.
afterAll(() => {
  if (process.env.VLLM_WHEELS_KEEP_TMP) return;
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A temp dir removed after the spec file (kept when VLLM_WHEELS_KEEP_TMP is set, for debugging). */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `vllm-wheels-${prefix}-`));
  created.push(dir);
  return dir;
}
