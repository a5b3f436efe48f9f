import { join } from 'node:path';
import { tempDir } from '../../test-support/temp';
import { writeTestWheel } from '../../test-support/test-wheel';
import { recordingLogger } from '../log';
import { publishWheel, resolveUploadTarget } from './index';

const TOKEN = 'pypi-AgEIcHlwaS5vcmc-dry-run-secret';

/** The index answers 404 for the project: nothing published yet. No request leaves the process. */
const notFound: typeof fetch = async () => new Response('not found', { status: 404 });

async function dryRun(uploadUrl: string, twine: string, env: Record<string, string | undefined>) {
  const dir = tempDir('publish-dry');
  const wheel = await writeTestWheel(join(dir, 'dist'), 'vllm-cpu', '0.16.0', { requiresPython: '>=3.9' });
  const log = recordingLogger();
  let asked = 0;
  const outcome = await publishWheel({
    wheel,
    project: 'vllm-cpu',
    target: resolveUploadTarget(uploadUrl),
    maxFileSizeMiB: 100,
    configFile: 'packages/vllm-cpu/wheel.json',
    variant: 'vllm-cpu',
    twine: async () => {
      asked++;
      return twine;
    },
    cwd: dir,
    env,
    log,
    dryRun: true,
    fetch: notFound,
  });
  return { outcome, wheel, dir, log, asked };
}

describe('publishWheel --dry-run', () => {
  it('prints the twine upload command with its cwd and env, the token masked, and uploads nothing', async () => {
    const env = { PATH: '/usr/bin', PYPI_TOKEN: TOKEN, TWINE_REPOSITORY_URL: 'https://elsewhere.example/legacy/', UV_PUBLISH_TOKEN: 'other-token-value' };
    const { outcome, wheel, dir, log } = await dryRun('http://127.0.0.1:9/legacy/', '/tools/bin/twine', env);
    expect(outcome).toBe('dry-run');
    const planned = log.lines.filter((l) => l.startsWith('[dry-run] would run'));
    expect(planned).toEqual([
      `[dry-run] would run (cwd ${dir}): /tools/bin/twine upload --non-interactive --repository-url http://127.0.0.1:9/legacy/ ${wheel}\n` +
        '[dry-run]   env: TWINE_USERNAME=__token__ TWINE_PASSWORD=*** TWINE_NON_INTERACTIVE=1 PYTHON_KEYRING_BACKEND=keyring.backends.null.Keyring NO_COLOR=1 PYTHONUNBUFFERED=1 ' +
        '(removed: PYPI_TOKEN TWINE_REPOSITORY_URL UV_PUBLISH_TOKEN)',
    ]);
    const text = log.lines.join('\n');
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain('other-token-value');
  });

  it("for TestPyPI also prints twine check when twine is not installed yet, and resolves twine once", async () => {
    const { outcome, wheel, dir, log, asked } = await dryRun('https://test.pypi.org/legacy/', '/no/such/tools/bin/twine', { PATH: '/usr/bin', TWINE_PASSWORD: TOKEN });
    expect(outcome).toBe('dry-run');
    expect(asked).toBe(1);
    const planned = log.lines.filter((l) => l.startsWith('[dry-run] would run'));
    expect(planned).toEqual([
      `[dry-run] would run (cwd ${dir}): /no/such/tools/bin/twine check --strict ${wheel}\n` +
        '[dry-run]   env: TWINE_NON_INTERACTIVE=1 PYTHON_KEYRING_BACKEND=keyring.backends.null.Keyring NO_COLOR=1 PYTHONUNBUFFERED=1 (removed: TWINE_PASSWORD)',
      `[dry-run] would run (cwd ${dir}): /no/such/tools/bin/twine upload --non-interactive --repository-url https://test.pypi.org/legacy/ --skip-existing ${wheel}\n` +
        '[dry-run]   env: TWINE_USERNAME=__token__ TWINE_PASSWORD=*** TWINE_NON_INTERACTIVE=1 PYTHON_KEYRING_BACKEND=keyring.backends.null.Keyring NO_COLOR=1 PYTHONUNBUFFERED=1',
    ]);
    expect(log.lines).toContain('[dry-run] twine is not installed yet (see the tools venv above): the check is not run now.');
    expect(log.lines.join('\n')).not.toContain(TOKEN);
  });
});
