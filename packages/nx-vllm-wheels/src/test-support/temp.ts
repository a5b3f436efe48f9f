import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A temp dir removed after the test file (unless VLLM_WHEELS_KEEP_TMP is set, for debugging). */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  if (!process.env.VLLM_WHEELS_KEEP_TMP) afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
