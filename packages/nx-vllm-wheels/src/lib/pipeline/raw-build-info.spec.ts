import { wheelConfigSchema } from '../../config';
import { auditRules } from './raw-build-info';
import type { VariantSpec } from './context';

const variant: VariantSpec = {
  name: 'vllm-cpu@vllm-0.34',
  configFile: 'packages/vllm-0.34/vllm-cpu/wheel.json',
  config: wheelConfigSchema.parse({ distribution: 'vllm-cpu', device: 'cpu', arch: 'x86_64', isa: 'avx2' }),
};
const libraries = (rules: ReturnType<typeof auditRules>) => rules.dispatch.map((r) => r.library);

describe('auditRules', () => {
  it('holds a unified build to the dispatch rules of the libraries its commit builds: 0.17.0 has no _C_AVX512 to require', () => {
    expect(libraries(auditRules({ family: 'unified', libraries: ['_C', '_C_AVX2'] }, variant))).toEqual(['vllm/_C_AVX2.*so', 'vllm/_C.*so']);
    expect(libraries(auditRules({ family: 'unified', libraries: ['_C', '_C_AVX512', '_C_AVX2'] }, variant))).toEqual(['vllm/_C_AVX2.*so', 'vllm/_C_AVX512.*so', 'vllm/_C.*so']);
    // A record without the list (what a build before it wrote) requires all three.
    expect(libraries(auditRules({ family: 'unified' }, variant))).toEqual(['vllm/_C_AVX2.*so', 'vllm/_C_AVX512.*so', 'vllm/_C.*so']);
  });

  it('holds an isa-variants build to one ceiling, its isa', () => {
    const rules = auditRules({ family: 'isa-variants', libraries: [] }, variant);
    expect(rules).toMatchObject({ declared: 'avx2', dispatch: [] });
  });
});
