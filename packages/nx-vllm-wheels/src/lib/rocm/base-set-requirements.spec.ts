import { tempDir } from '../../test-support/temp';
import { writeRequiringWheel } from '../../test-support/wheelhouse-fixtures';
import { requiresDistWithBaseSet } from './base-set-requirements';

const BASE = [
  { distribution: 'amdsmi', version: '26.1.0' },
  { distribution: 'torch', version: '2.9.0' },
];

describe('requiresDistWithBaseSet', () => {
  it("pins the base set first and keeps the raw wheel's own lines (upstream names no torch)", async () => {
    const raw = await writeRequiringWheel(tempDir('base-set'), 'vllm', '0.34.0+rocm710', ['packaging>=24.2', 'numba; python_version < "3.13"']);
    expect(await requiresDistWithBaseSet(raw, BASE)).toEqual(['amdsmi==26.1.0', 'torch==2.9.0', 'packaging>=24.2', 'numba; python_version < "3.13"']);
  });

  it('replaces an unconditional line naming a base distribution (any spelling), keeps one with a marker', async () => {
    const raw = await writeRequiringWheel(tempDir('base-set'), 'vllm', '0.34.0+rocm710', ['Torch>=2.0', 'torch[opt]; extra == "opt"', 'packaging']);
    expect(await requiresDistWithBaseSet(raw, BASE)).toEqual(['amdsmi==26.1.0', 'torch==2.9.0', 'torch[opt]; extra == "opt"', 'packaging']);
  });

  it('leaves the lines as they are without a base set', async () => {
    const raw = await writeRequiringWheel(tempDir('base-set'), 'vllm', '0.34.0+rocm710', ['torch>=2.0']);
    expect(await requiresDistWithBaseSet(raw, [])).toEqual(['torch>=2.0']);
  });
});
