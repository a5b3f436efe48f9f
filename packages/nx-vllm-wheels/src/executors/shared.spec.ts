import type { ExecutorContext } from '@nx/devkit';
import { tmpdir } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, SourceError } from '../lib/errors';
import { tempDir } from '../test-support/temp';
import { loadSource, loadUnlockedSource, runStep } from './shared';

const context = { root: tmpdir(), projectName: 'vllm', targetName: 'checkout', cwd: tmpdir(), isVerbose: false } as unknown as ExecutorContext;

describe('runStep', () => {
  let errors: jest.SpyInstance;
  let warnings: jest.SpyInstance;
  beforeEach(() => {
    errors = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    warnings = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  it('prints a failing step as an ERROR with its causes, secrets masked, and reports failure to Nx', async () => {
    const secret = 'Sup3rSecretValue-unit-0123456789';
    process.env.VLLM_WHEELS_TEST_GIT_TOKEN = secret;
    try {
      const cause = new Error(`fatal: could not read from https://x-access-token:${secret}@github.com/vllm-project/vllm.git`);
      const result = await runStep(context, {}, async () => {
        throw new SourceError('cannot fetch the vLLM mirror', { cause });
      });
      expect(result).toEqual({ success: false });
    } finally {
      delete process.env.VLLM_WHEELS_TEST_GIT_TOKEN;
    }
    expect(warnings).not.toHaveBeenCalled();
    expect(errors.mock.calls).toEqual([
      ['ERROR: vllm:checkout failed: cannot fetch the vLLM mirror\n  caused by: fatal: could not read from https://x-access-token:***@github.com/vllm-project/vllm.git'],
    ]);
  });

  it('lets an unexpected error (a bug, not ours to word) through to Nx with its stack', async () => {
    await expect(runStep(context, {}, async () => Promise.reject(new TypeError('x is undefined')))).rejects.toThrow('x is undefined');
    expect(errors).not.toHaveBeenCalled();
  });

  it('returns success when the step resolves', async () => {
    expect(await runStep(context, {}, async () => undefined)).toEqual({ success: true });
    expect(errors).not.toHaveBeenCalled();
  });
});

describe('loadSource', () => {
  it('refuses a vllm.json without a commit for every step but lock, saying how to lock it', () => {
    const root = tempDir('shared-load-source');
    mkdirSync(join(root, 'packages/vllm-0.34'), { recursive: true });
    writeFileSync(join(root, 'packages/vllm-0.34/vllm.json'), JSON.stringify({ repository: 'https://github.com/vllm-project/vllm.git', ref: 'v0.34.0' }));
    const ctx = { ...context, root } as ExecutorContext;
    expect(loadUnlockedSource(ctx, 'packages/vllm-0.34/vllm.json')).toMatchObject({ name: 'vllm-0.34', config: { ref: 'v0.34.0' } });
    expect(() => loadSource(ctx, 'packages/vllm-0.34/vllm.json')).toThrow(
      new ConfigError('packages/vllm-0.34/vllm.json is not locked:\n  - commit: missing; run `nx run vllm-0.34:lock` to resolve "ref" (v0.34.0) to the commit every build of it is keyed on'),
    );
  });
});
