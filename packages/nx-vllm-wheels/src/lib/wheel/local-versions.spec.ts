/**
 * Version normalization of a ROCm base-wheel set, on the fixture's real wheels (tools/fixtures/rocm):
 * the normalized set installs with real pip from a directory alone (--no-index), which it can only do if
 * every local pin between the wheels was rewritten.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { createRocmBaseWheels } from '../../../../../tools/fixtures/index.js';
import { tempDir } from '../../test-support/temp';
import { stripLocalVersions } from './local-versions';
import { getHeaders, parseHeaders } from './metadata';
import { validateWheel } from './validate';
import { python } from './test-support/python';
import { freshVenv, pip, pipRun } from '../../test-support/venv';

const base = createRocmBaseWheels(tempDir('rocm-base-a'));
const other = createRocmBaseWheels(tempDir('rocm-base-b'), { build: 'b' });
const all = (set: typeof base) => [set.wheels.torch, set.wheels.triton, set.wheels.torchvision, set.wheels.amdsmi];

describe('stripLocalVersions', () => {
  let out: string;
  let result: Awaited<ReturnType<typeof stripLocalVersions>>;
  beforeAll(async () => {
    out = tempDir('rocm-normalized');
    result = await stripLocalVersions({ wheels: all(base), outputDir: out });
  });

  it('renames file, .dist-info, METADATA and RECORD, and rewrites the local pins between the wheels', async () => {
    expect(readdirSync(out).sort()).toEqual([
      'amdsmi-26.1.0-py3-none-linux_x86_64.whl',
      'torch-2.9.0-py3-none-linux_x86_64.whl',
      'torchvision-0.24.0-py3-none-linux_x86_64.whl',
      'triton-3.5.0-py3-none-linux_x86_64.whl',
    ]);
    expect(result.map((r) => [r.distribution, r.from, r.to, r.requirements])).toEqual([
      ['torch', '2.9.0+git1c57644d', '2.9.0', [{ from: 'triton==3.5.0+gitb0e26b6e; platform_system == "Linux" and platform_machine == "x86_64"', to: 'triton==3.5.0; platform_system == "Linux" and platform_machine == "x86_64"' }]],
      ['triton', '3.5.0+gitb0e26b6e', '3.5.0', []],
      ['torchvision', '0.24.0+git98f8b37', '0.24.0', [{ from: 'torch (==2.9.0+git1c57644d)', to: 'torch (==2.9.0)' }]],
      ['amdsmi', '26.1.0+5f0a6e2', '26.1.0', []],
    ]);
    // Every member checked against the new RECORD; the .dist-info renamed; METADATA's other lines kept.
    const info = await validateWheel(join(out, 'torchvision-0.24.0-py3-none-linux_x86_64.whl'));
    expect(info.distInfoDir).toBe('torchvision-0.24.0.dist-info');
    expect(info.record.map((r) => r.path)).not.toContainEqual(expect.stringContaining('+git'));
    expect(getHeaders(info.metadata, 'Requires-Dist')).toEqual(['torch (==2.9.0)', 'pillow!=8.3.*,>=5.3.0; extra == "image"']);
    expect(getHeaders(info.metadata, 'Version')).toEqual(['0.24.0']);
    expect(getHeaders(info.metadata, 'Provides-Extra')).toEqual(['image']);
  });

  it('gives the same bytes from the same input (a rerun publishes nothing new)', async () => {
    const again = tempDir('rocm-normalized-again');
    await stripLocalVersions({ wheels: all(base), outputDir: again });
    for (const name of readdirSync(out)) expect(readFileSync(join(again, name)).equals(readFileSync(join(out, name)))).toBe(true);
  });

  it('installs with real pip from the directory alone, and pip check is satisfied', async () => {
    const venv = tempDir('rocm-venv');
    const py = freshVenv(join(venv, 'venv'));
    pip(py, ['install', '--quiet', '--no-index', '--find-links', out, 'torchvision', 'amdsmi'], { cwd: venv });
    pip(py, ['check'], { cwd: venv });
    const { stdout } = await python('import importlib.metadata as md, json; print(json.dumps({n: md.version(n) for n in ["torch", "triton", "torchvision", "amdsmi"]}))', { cwd: venv, interpreter: py });
    expect(JSON.parse(stdout)).toEqual({ torch: '2.9.0', triton: '3.5.0', torchvision: '0.24.0', amdsmi: '26.1.0' });
  }, 600_000);

  it('without the pins rewritten the set does not resolve (what the rewrite is for)', async () => {
    // torch and triton normalized, torchvision left as built: its torch==2.9.0+git1c57644d finds no torch.
    const dir = tempDir('rocm-half');
    await stripLocalVersions({ wheels: [base.wheels.torch, base.wheels.triton], outputDir: dir });
    const venv = tempDir('rocm-venv-half');
    const py = freshVenv(join(venv, 'venv'));
    const r = pipRun(py, ['install', '--no-index', '--find-links', dir, base.wheels.torchvision], { cwd: venv });
    expect(r.status).not.toBe(0);
    expect(r.output).toMatch(/torch==2\.9\.0\+git1c57644d/);
  }, 600_000);

  it('refuses two builds of one release in a set, and a pin to another build, writing nothing', async () => {
    const dir = tempDir('rocm-refused');
    const mixed = await stripLocalVersions({ wheels: [...all(base), other.wheels.torch], outputDir: dir }).catch((e: Error) => e);
    expect((mixed as Error).message).toContain(
      `torch 2.9.0 would come from 2 different builds (${basename(base.wheels.torch)} is 2.9.0+git1c57644d, ${basename(other.wheels.torch)} is 2.9.0+git7e3a1f0b)`,
    );
    // b's torchvision pins b's torch, the set holds a's torch.
    const crossed = await stripLocalVersions({ wheels: [base.wheels.torch, base.wheels.triton, other.wheels.torchvision], outputDir: dir }).catch((e: Error) => e);
    expect((crossed as Error).message).toContain(`${basename(other.wheels.torchvision)}: Requires-Dist "torch (==2.9.0+git7e3a1f0b)" pins torch 2.9.0+git7e3a1f0b, but the set's torch is 2.9.0+git1c57644d`);
    const outside = await stripLocalVersions({ wheels: [base.wheels.torch], outputDir: dir }).catch((e: Error) => e);
    expect((outside as Error).message).toContain('pins the local version 3.5.0+gitb0e26b6e of triton, which is not in the set being normalized');
    expect(readdirSync(dir)).toEqual([]);
  });

  it("keeps METADATA's bytes apart from Version and the rewritten pins", async () => {
    const before = (await validateWheel(base.wheels.torch)).metadata;
    const after = (await validateWheel(join(out, 'torch-2.9.0-py3-none-linux_x86_64.whl'))).metadata;
    const strip = (doc: typeof before) => doc.fields.filter((f) => !/^(version|requires-dist)$/i.test(f.name)).map((f) => f.raw);
    expect(strip(after)).toEqual(strip(before));
    expect(parseHeaders(after.fields.map((f) => f.raw).join('')).fields.length).toBe(before.fields.length);
  });
});
