import { consoleLogger } from '../log';
import { envChanges, formatEnvChanges, formatPlannedCommand, isSecretVariable, redactUrlCredentials } from './index';

describe('formatPlannedCommand', () => {
  it('prints the command (shell-quoted), its cwd, and the variables set and removed, nothing inherited', () => {
    const base = { PATH: '/usr/bin', HOME: '/home/me', VIRTUAL_ENV: '/home/me/.venv', LC_ALL: 'de_DE.UTF-8' };
    const child = { PATH: '/usr/bin', HOME: '/home/me', LC_ALL: 'C', PIP_NO_INPUT: '1', CMAKE_ARGS: '-DA=1 -DB=2' };
    expect(formatPlannedCommand({ command: '/venv/bin/python', args: ['-m', 'pip', 'install', 'torch==2.6.0+cpu', 'it is'], cwd: '/work dir', env: envChanges(base, child) })).toBe(
      [
        "[dry-run] would run (cwd /work dir): /venv/bin/python -m pip install torch==2.6.0+cpu 'it is'",
        "[dry-run]   env: LC_ALL=C PIP_NO_INPUT=1 CMAKE_ARGS='-DA=1 -DB=2' (removed: VIRTUAL_ENV)",
      ].join('\n'),
    );
  });

  it('says so when the command runs in the environment as it is', () => {
    expect(formatPlannedCommand({ command: 'objdump', args: ['-d', 'x.so'], cwd: '/tmp' })).toBe('[dry-run] would run (cwd /tmp): objdump -d x.so\n[dry-run]   env: inherited, nothing set');
  });

  it('masks tokens, passwords and keys: by variable name, by value, and in URLs of the command and the env', () => {
    const token = 'pypi-AgEIcHlwaS5vcmcCJGFiY2RlZg';
    const line = formatPlannedCommand({
      command: 'twine',
      args: ['upload', '--repository-url', 'https://user:s3cr%40t@upload.example/legacy/', `--comment=${token}`, 'https://ghp_abcdef123456@github.com/org/repo.git'],
      cwd: '/w',
      env: {
        TWINE_USERNAME: '__token__',
        TWINE_PASSWORD: token,
        PYPI_TOKEN: undefined,
        AWS_ACCESS_KEY_ID: 'AKIAABCDEFGHIJKLMNOP',
        AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG',
        AWS_SESSION_TOKEN: 'FwoGZXIvYXdzEJr',
        PIP_INDEX_URL: 'https://me:hunter22@pypi.example/simple/',
        NOTE: `mentions ${token}`,
        PYTHON_KEYRING_BACKEND: 'keyring.backends.null.Keyring',
      },
      secrets: [token],
    });
    for (const secret of [token, 's3cr%40t', 'ghp_abcdef123456', 'AKIAABCDEFGHIJKLMNOP', 'wJalrXUtnFEMI/K7MDENG', 'FwoGZXIvYXdzEJr', 'hunter22']) expect(line).not.toContain(secret);
    expect(line).toContain('--repository-url https://user:***@upload.example/legacy/');
    expect(line).toContain('https://***@github.com/org/repo.git');
    expect(line).toContain(' --comment=*** ');
    expect(line).toContain('TWINE_USERNAME=__token__ TWINE_PASSWORD=*** AWS_ACCESS_KEY_ID=*** AWS_SECRET_ACCESS_KEY=*** AWS_SESSION_TOKEN=*** PIP_INDEX_URL=https://me:***@pypi.example/simple/');
    expect(line).toContain("NOTE='mentions ***'");
    // Not every name with KEY in it is a secret; a removed variable shows its name only.
    expect(line).toContain('PYTHON_KEYRING_BACKEND=keyring.backends.null.Keyring (removed: PYPI_TOKEN)');
  });
});

describe('envChanges', () => {
  it('lists what the child sets differently and what it lacks, not what it inherits unchanged', () => {
    expect(envChanges({ A: '1', B: '2', C: '3', U: undefined }, { A: '1', B: 'two', D: '4', U: undefined })).toEqual({ B: 'two', D: '4', C: undefined });
  });
});

describe('redactUrlCredentials / isSecretVariable', () => {
  it('masks URL passwords and bare https tokens, leaves ssh users and plain URLs alone', () => {
    expect(redactUrlCredentials('git clone ssh://git@github.com/o/r.git file:///srv/r.git https://host/a@b http://u:p@h/ https://tok@h/')).toBe(
      'git clone ssh://git@github.com/o/r.git file:///srv/r.git https://host/a@b http://u:***@h/ https://***@h/',
    );
  });

  it.each([
    ['wheel.json publish.repositoryUrl', 'Uploading with twine to https://alice:Upl0ad-pw@pkgs.example.com/legacy/…', 'Uploading with twine to https://alice:***@pkgs.example.com/legacy/…'],
    ['wheel.json publish.indexUrl', 'Checking http://__token__:pypi-AgE-secret@127.0.0.1:8080/simple/ for x.whl', 'Checking http://__token__:***@127.0.0.1:8080/simple/ for x.whl'],
    ['torch.json indexUrl (pip argv)', "pip install --index-url 'https://me:s3cret@idx.example/simple' torch", "pip install --index-url 'https://me:***@idx.example/simple' torch"],
    ['torch.json torchIndexUrl', 'index https://tok3n@download.example/whl/cpu)', 'index https://***@download.example/whl/cpu)'],
    ['torch.json extraIndexUrls (uv --extra-index-url=)', '--extra-index-url=https://u:p4ss@extra.example/simple/', '--extra-index-url=https://u:***@extra.example/simple/'],
    ['index.json publicUrl', 'pip install --index-url "https://reader:r34d@wheels.example/simple/" vllm-cpu', 'pip install --index-url "https://reader:***@wheels.example/simple/" vllm-cpu'],
    ['index.json s3.endpoint', 'to s3://b/p at http://minio:minio-key@127.0.0.1:9000', 'to s3://b/p at http://minio:***@127.0.0.1:9000'],
    ['vllm.json repository (token as user)', 'Cloning https://ghp_abcdef123456@github.com/vllm-project/vllm.git into', 'Cloning https://***@github.com/vllm-project/vllm.git into'],
    ['vllm.json repository (git error)', "fatal: unable to access 'https://oauth2:glpat-xyz@gitlab.example/v.git/': 403", "fatal: unable to access 'https://oauth2:***@gitlab.example/v.git/': 403"],
    ['a password with an unencoded @', 'http://u:p@ss@host:1/x', 'http://u:***@host:1/x'],
  ])('masks the password of %s', (_kind, text, shown) => {
    expect(redactUrlCredentials(text)).toBe(shown);
  });

  it('every console line (what Nx shows and caches) has URL credentials masked', () => {
    const out: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((m: string) => void out.push(m));
    const warn = jest.spyOn(console, 'warn').mockImplementation((m: string) => void out.push(m));
    try {
      consoleLogger.step('Cloning https://u:pw-1@h/r.git');
      consoleLogger.info('index http://u:pw-2@h/simple/');
      consoleLogger.warn('vllm-cpu:publish failed: https://u:pw-3@h/ answered 500');
    } finally {
      log.mockRestore();
      warn.mockRestore();
    }
    expect(out).toEqual(['\n> Cloning https://u:***@h/r.git', 'index http://u:***@h/simple/', 'WARNING: vllm-cpu:publish failed: https://u:***@h/ answered 500']);
  });

  it('knows credential variable names', () => {
    for (const name of ['PYPI_TOKEN', 'TWINE_PASSWORD', 'UV_PUBLISH_TOKEN', 'AWS_SECRET_ACCESS_KEY', 'AWS_ACCESS_KEY_ID', 'AWS_SESSION_TOKEN', 'GITHUB_TOKEN', 'API_KEY', 'MY_SECRET']) expect(isSecretVariable(name)).toBe(true);
    for (const name of ['PATH', 'VLLM_CPU_AVX512BF16', 'PYTHON_KEYRING_BACKEND', 'MAX_JOBS', 'CCACHE_DIR']) expect(isSecretVariable(name)).toBe(false);
  });

  it('formats an empty change set as inherited', () => {
    expect(formatEnvChanges({})).toBe('inherited, nothing set');
  });
});
