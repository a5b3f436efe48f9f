import { globToRegExp } from './glob';

describe('globToRegExp', () => {
  it.each<[string, string[], string[]]>([
    ['torch/lib/*.so*', ['torch/lib/libtorch.so', 'torch/lib/libgomp.so.1'], ['torch/lib/sub/x.so', 'torch/libx.so', 'xtorch/lib/a.so']],
    ['**/libgomp*.so*', ['libgomp.so.1', 'vllm.libs/libgomp-a34b.so.1.0.0', 'a/b/libgomp.so'], ['vllm.libs/libiomp.so']],
    ['vllm/**', ['vllm/_C.abi3.so', 'vllm/a/b.so'], ['vllm.libs/x.so']],
    ['lib?.so', ['liba.so'], ['libab.so', 'lib/.so']],
    ['lib[ab].so', ['liba.so', 'libb.so'], ['libc.so']],
    ['lib[!ab].so', ['libc.so'], ['liba.so']],
    ['vllm_cpu+x.so', ['vllm_cpu+x.so'], ['vllm_cpuux.so']],
  ])('%s', (pattern, matching, other) => {
    const re = globToRegExp(pattern);
    expect(matching.filter((n) => !re.test(n))).toEqual([]);
    expect(other.filter((n) => re.test(n))).toEqual([]);
  });
});
