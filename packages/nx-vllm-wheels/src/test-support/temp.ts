import { dirSync } from 'tmp';

const created: { name: string; removeCallback: () => void }[] = [];
// Registered when a spec file imports this module (top level), so tempDir() may be called inside tests.
afterAll(() => {
  if (process.env.VLLM_WHEELS_KEEP_TMP) return;
  for (const dir of created.splice(0)) dir.removeCallback();
});

/** A temp dir removed after the spec file (kept when VLLM_WHEELS_KEEP_TMP is set, for debugging). */
export function tempDir(prefix: string): string {
  const dir = dirSync({ prefix: `vllm-wheels-${prefix}-`, unsafeCleanup: true });
  created.push(dir);
  return dir.name;
}
