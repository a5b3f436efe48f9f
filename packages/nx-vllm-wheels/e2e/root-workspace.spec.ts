/**
 * The repository's own workspace (packages/ at its root) is the real one users run `npx nx …` in: the
 * plugin must load from its build there too, not as a local TypeScript plugin Nx cannot run.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../src/test-support/temp';
import { ROOT_WORKSPACE_PROJECTS } from '../src/test-support/root-workspace';
import { assertPluginBuilt, REPO_ROOT } from './support/paths';
import { cleanEnv, runNx } from './support/workspace';

describe("the repository's own workspace", () => {
  let env: Record<string, string | undefined>;
  let machineCache: string;
  beforeAll(() => {
    assertPluginBuilt();
    const tmp = tempDir('root-workspace');
    machineCache = join(tmp, 'machine-cache');
    env = {
      ...cleanEnv(),
      NX_DAEMON: 'false',
      NX_NO_CLOUD: 'true',
      NX_TUI: 'false',
      NX_CACHE_DIRECTORY: join(tmp, 'nx-cache'),
      NX_WORKSPACE_DATA_DIRECTORY: join(tmp, 'nx-data'),
      VLLM_WHEELS_CACHE_DIR: machineCache,
    };
  });

  it('infers the three vLLM sources (0.16.0, the latest release, main) and the seven variants, previews a checkout and the build environments, and says the latest release and main are not locked yet', async () => {
    const projects = await runNx(REPO_ROOT, ['show', 'projects', '--json'], env);
    expect(projects.code).toBe(0);
    expect((JSON.parse(projects.output.slice(projects.output.indexOf('['))) as string[]).sort()).toEqual([...ROOT_WORKSPACE_PROJECTS].sort());

    const checkout = await runNx(REPO_ROOT, ['run', 'vllm:checkout', '--dry-run', '--outputStyle=static'], env);
    expect(checkout.code).toBe(0);
    expect(checkout.output).toContain('git clone --mirror -- https://github.com/vllm-project/vllm.git');
    expect(existsSync(machineCache)).toBe(false);

    // The unlocked sources are skipped, saying how to lock them; the locked one is prepared.
    const install = await runNx(REPO_ROOT, ['run', 'torch-cpu:install', '--dry-run', '--outputStyle=static'], env);
    expect(install.code).toBe(0);
    expect(install.output).toContain('WARNING: packages/vllm-0.34/vllm.json is not locked: nothing to check out until `nx run vllm-0.34:lock` pins "ref" (v0.34.0).');
    expect(install.output).toContain('WARNING: packages/vllm-main/vllm.json is not locked: no build environment for it until `nx run vllm-main:lock` pins "ref" (main).');
    expect(install.output).toMatch(/would read the build requirements .* at 89a77b10846f/);
    expect(existsSync(machineCache)).toBe(false);

    const unlocked = await runNx(REPO_ROOT, ['run', 'vllm-cpu@vllm-0.34:build', '--dry-run', '--outputStyle=static'], env);
    expect(unlocked.code).not.toBe(0);
    expect(unlocked.output).toContain('packages/vllm-0.34/vllm.json is not locked:\n  - commit: missing; run `nx run vllm-0.34:lock`');
  });
});
