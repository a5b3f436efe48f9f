import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfigText, PYPI_UPLOAD_URL, WHEEL_BUILD_FIELDS, WHEEL_NORMALIZE_FIELDS, wheelConfigSchema } from './index';

const seed = JSON.parse(readFileSync(join(__dirname, '../../../vllm-cpu/wheel.json'), 'utf8')) as Record<string, unknown>;
const parse = (extra: Record<string, unknown>) => parseConfigText(wheelConfigSchema, 'packages/vllm-cpu/wheel.json', JSON.stringify({ ...seed, ...extra }));

describe('wheel.json "publish"', () => {
  it('defaults to PyPI with its 100 MiB per-file limit', () => {
    expect(parse({}).publish).toEqual({ repositoryUrl: PYPI_UPLOAD_URL, maxFileSizeMiB: 100 });
    expect(PYPI_UPLOAD_URL).toBe('https://upload.pypi.org/legacy/');
  });

  it('takes a private server, its index and a granted limit', () => {
    expect(parse({ publish: { repositoryUrl: 'https://devpi.example/me/dev/', indexUrl: 'https://devpi.example/me/dev/+simple/', maxFileSizeMiB: 400 } }).publish).toEqual({
      repositoryUrl: 'https://devpi.example/me/dev/',
      indexUrl: 'https://devpi.example/me/dev/+simple/',
      maxFileSizeMiB: 400,
    });
  });

  it('names the field and what is allowed; unknown keys get a suggestion', () => {
    expect(() => parse({ publish: { repositoryUrl: 'upload.pypi.org', maxFileSizeMiB: 0.5, token: 'x' } })).toThrow(
      [
        'packages/vllm-cpu/wheel.json is invalid:',
        '  - publish.repositoryUrl: must be an http:// or https:// URL',
        '  - publish.maxFileSizeMiB: must be a whole number of MiB (got 0.5)',
        '  - publish.token: unknown field. Allowed keys: repositoryUrl, indexUrl, maxFileSizeMiB.',
      ].join('\n'),
    );
  });

  it('is in neither the build nor the wheel hash: where a wheel goes never changes its bytes', () => {
    expect([...WHEEL_BUILD_FIELDS, ...WHEEL_NORMALIZE_FIELDS]).not.toContain('publish');
  });
});
