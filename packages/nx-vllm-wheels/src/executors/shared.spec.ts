import type { ExecutorContext } from '@nx/devkit';
import { tmpdir } from 'node:os';
import { SourceError } from '../lib/errors';
import { runStep } from './shared';

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
