/**
 * `wheel-index:index` with real nx: it builds every member's wheel first, indexes them into dist/index
 * (pip installs from it), is cached like any target (a hit restores the same bytes), and a change to
 * index.json re-runs the index only, never the wheels.
 * The tests in this file run in order and build on each other's workspace state.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../src/test-support/temp';
import { treeHashes } from '../src/test-support/tree';
import { createSharedFixture, type SharedFixture } from './support/fixture';
import { assertPluginBuilt } from './support/paths';
import { freshVenv, pipInstall, runPython } from './support/python';
import { createTestWorkspace, taskOutcomes, type TestWorkspace } from './support/workspace';

const VARIANTS = ['vllm-cpu', 'vllm-cpu-avx512'] as const;
const WHEEL_TASKS = VARIANTS.flatMap((v) => [`${v}:build`, `${v}:wheel`]);

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

const tree = treeHashes;

describe('wheel-index:index with real nx', () => {
  let fixture: SharedFixture;
  let ws: TestWorkspace;
  let tmp: string;
  const index = () => join(ws.root, 'dist/index');
  const wheelOf = (variant: string) => {
    const dir = join(ws.root, 'dist/wheels', variant);
    return join(dir, readdirSync(dir).find((f) => f.endsWith('.whl')) as string);
  };

  beforeAll(() => {
    assertPluginBuilt();
    tmp = tempDir('index');
    fixture = createSharedFixture(join(tmp, 'fixture'));
    ws = createTestWorkspace({ fixture, root: join(tmp, 'ws'), machineCache: join(tmp, 'machine-cache'), variants: VARIANTS, cxxVersion: '13.2.0' });
  });

  it("1. `nx run wheel-index:index` builds every variant's wheel, then indexes them with matching sha256", async () => {
    const out = await ws.nxOk(['run', 'wheel-index:index', '--outputStyle=static']);
    expect(taskOutcomes(out)).toEqual({ ran: [...WHEEL_TASKS, 'wheel-index:index'].sort(), cached: [] });
    expect(out).toContain('Indexing 2 wheels into dist/index');

    const files = tree(index());
    for (const v of VARIANTS) {
      const wheel = wheelOf(v);
      const name = wheel.slice(wheel.lastIndexOf('/') + 1);
      const hash = sha256(wheel);
      expect(files[`files/${v}/${name}`]).toBe(hash); // the very bytes of dist/wheels/<v>
      expect(out).toContain(`${name}: `);
      const page = readFileSync(join(index(), 'simple', v, 'index.html'), 'utf8');
      expect(page).toContain(`${encodeURIComponent(name)}#sha256=${hash}`);
      const json = JSON.parse(readFileSync(join(index(), 'simple', v, 'index.json'), 'utf8'));
      expect(json.files).toEqual([expect.objectContaining({ filename: name, hashes: { sha256: hash }, size: statSync(wheel).size })]);
    }
    expect(JSON.parse(readFileSync(join(index(), 'simple/index.json'), 'utf8')).projects).toEqual(VARIANTS.map((name) => ({ name })));
    const landing = readFileSync(join(index(), 'index.html'), 'utf8');
    expect(landing).toContain('<title>vLLM CPU wheels</title>');
    expect(landing).toContain(`pip install --extra-index-url ${fixture.torch.indexUrl} vllm-cpu-avx512`); // torch.json's torch index
  });

  it('2. pip installs a variant from dist/index (torch from the CPU index) and it imports', () => {
    const python = freshVenv(join(tmp, 'venv'));
    const log = pipInstall(python, ['--index-url', `file://${index()}/simple/`, 'vllm-cpu-avx512'], fixture.torch.indexUrl);
    expect(log).toMatch(/Successfully installed .*vllm-cpu-avx512-0\.16\.0/);
    const report = JSON.parse(runPython(python, 'import json, importlib.metadata as m, vllm._C as c; print(json.dumps({"v": m.version("vllm-cpu-avx512"), "avx512f": c.compiled_isa()["avx512f"]}))'));
    expect(report).toEqual({ v: '0.16.0', avx512f: true });
  });

  it('3. a second run is a cache hit, and a restore from the cache gives byte-identical files', async () => {
    const before = tree(index());
    const again = taskOutcomes(await ws.nxOk(['run', 'wheel-index:index', '--outputStyle=static']));
    expect(again).toEqual({ ran: [], cached: [...WHEEL_TASKS, 'wheel-index:index'].sort() });

    rmSync(index(), { recursive: true });
    const restored = taskOutcomes(await ws.nxOk(['run', 'wheel-index:index', '--outputStyle=static']));
    expect(restored.cached).toContain('wheel-index:index');
    expect(tree(index())).toEqual(before);
  });

  it('4. --dry-run lists the wheels it would index and leaves dist/index alone', async () => {
    const before = tree(index());
    const out = await ws.nxOk(['run', 'wheel-index:index', '--dry-run', '--outputStyle=static']);
    expect(out).toContain('[dry-run] would index 2 wheels into dist/index');
    for (const v of VARIANTS) expect(out).toContain(`  ${v}: dist/wheels/${v}/`);
    expect(tree(index())).toEqual(before);
  });

  it("5. changing index.json's title re-runs the index only, not the wheels", async () => {
    ws.writeJson('packages/wheel-index/index.json', { ...ws.readJson<Record<string, unknown>>('packages/wheel-index/index.json'), title: 'Renamed wheels' });
    const outcome = taskOutcomes(await ws.nxOk(['run', 'wheel-index:index', '--outputStyle=static']));
    expect(outcome).toEqual({ ran: ['wheel-index:index'], cached: WHEEL_TASKS.sort() });
    expect(readFileSync(join(index(), 'index.html'), 'utf8')).toContain('<title>Renamed wheels</title>');
  });

  it("6. the variants' wheels are hard-linked into the index, and a wheel Nx later restores over dist/wheels never changes the indexed file", async () => {
    const indexed = (v: string) => join(index(), 'files', v, wheelOf(v).slice(wheelOf(v).lastIndexOf('/') + 1));
    for (const v of VARIANTS) expect(statSync(indexed(v)).ino).toBe(statSync(wheelOf(v)).ino);

    // Two cached wheels of vllm-cpu with the same file name: summary A (indexed) and summary B.
    const file = 'packages/vllm-cpu/wheel.json';
    const config = ws.readJson<{ metadata: Record<string, unknown> }>(file);
    ws.writeJson(file, { ...config, metadata: { ...config.metadata, summary: 'B' } });
    await ws.nxOk(['run', 'vllm-cpu:wheel', '--outputStyle=static']);
    const b = sha256(wheelOf('vllm-cpu'));
    ws.writeJson(file, config);
    // A again, from the cache; a new title makes the index run (a cached index is restored as copies).
    ws.writeJson('packages/wheel-index/index.json', { ...ws.readJson<Record<string, unknown>>('packages/wheel-index/index.json'), title: 'Linked wheels' });
    const reindexed = taskOutcomes(await ws.nxOk(['run', 'wheel-index:index', '--outputStyle=static']));
    expect(reindexed.cached).toContain('vllm-cpu:wheel');
    expect(reindexed.ran).toContain('wheel-index:index');
    const a = sha256(wheelOf('vllm-cpu'));
    expect(a).not.toBe(b);
    expect(statSync(indexed('vllm-cpu')).ino).toBe(statSync(wheelOf('vllm-cpu')).ino);

    // Nx restores B over the file the index links: it must replace it, not write into it.
    ws.writeJson(file, { ...config, metadata: { ...config.metadata, summary: 'B' } });
    expect(taskOutcomes(await ws.nxOk(['run', 'vllm-cpu:wheel', '--outputStyle=static'])).cached).toContain('vllm-cpu:wheel');
    expect(sha256(wheelOf('vllm-cpu'))).toBe(b);
    expect(sha256(indexed('vllm-cpu'))).toBe(a);
    const state = JSON.parse(readFileSync(join(index(), 'index-state.json'), 'utf8')) as { files: { project: string; sha256: string }[] };
    expect(state.files.find((f) => f.project === 'vllm-cpu')?.sha256).toBe(a);
    ws.writeJson(file, config);
  });
});
