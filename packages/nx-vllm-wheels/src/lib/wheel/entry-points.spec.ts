import { entryPointProblem, mergeEntryPoints } from './entry-points';

describe('mergeEntryPoints', () => {
  it('creates the file when there was none', () => {
    expect(mergeEntryPoints(undefined, { 'vllm.platform_plugins': { cpu: 'm:register' } })).toBe('[vllm.platform_plugins]\ncpu = m:register\n');
  });

  it('adds to an existing group, replaces a same-named entry, keeps other sections and comments', () => {
    const text = '# generated\n[console_scripts]\nvllm = vllm.cli:main\n\n[vllm.platform_plugins]\ncpu = old:register\nother = x:y\n';
    expect(mergeEntryPoints(text, { 'vllm.platform_plugins': { cpu: 'new:register' }, console_scripts: { extra: 'a.b:c' } })).toBe(
      '# generated\n[console_scripts]\nvllm = vllm.cli:main\nextra = a.b:c\n\n[vllm.platform_plugins]\ncpu = new:register\nother = x:y\n',
    );
  });
});

describe('entryPointProblem', () => {
  it('accepts module:attribute and refuses what the spec does not allow', () => {
    expect(entryPointProblem('vllm.platform_plugins', 'cpu', 'pkg.mod:attr')).toBeUndefined();
    expect(entryPointProblem('bad group', 'cpu', 'm:a')).toMatch(/group/);
    expect(entryPointProblem('g', 'a=b', 'm:a')).toMatch(/name/);
    expect(entryPointProblem('g', 'n', 'm a')).toMatch(/module:attribute/);
  });
});
