import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../test-support/temp';
import { testToolsVenv } from '../../test-support/tools';
import { ToolError } from '../errors';
import { recordingLogger } from '../log';
import { run } from '../process';
import { readStamp, type PythonInterpreter } from '../python';
import { normalizeGroups, TOOL_GROUPS, toolRequirements } from './requirements';
import { ensureToolsVenv, toolsVenvKey, type ToolsVenvOptions } from './venv';

const runTool = (path: string, args: string[]) => run(path, args, { cwd: '/', env: { PATH: process.env.PATH, LANG: 'C.UTF-8' }, timeoutMs: 120_000 });

describe('tool requirements', () => {
  it('pins every tool to an exact version', () => {
    for (const line of Object.values(TOOL_GROUPS).flat()) expect(line).toMatch(/^[a-z]+(\[[a-z]+\])?==\d+(\.\d+)+$/);
  });

  it('normalizes groups (sorted, no duplicates) and refuses unknown ones, naming the known', () => {
    expect(normalizeGroups(['wheel', 'servers', 'wheel'])).toEqual(['servers', 'wheel']);
    expect(toolRequirements(['uv', 'wheel'])).toEqual([...TOOL_GROUPS.uv, ...TOOL_GROUPS.wheel]);
    expect(() => normalizeGroups(['wheel', 'twine'])).toThrow(new ToolError('Unknown tool group(s) "twine"; the groups are wheel, uv, servers.'));
  });

  it('keys a venv by python version and the pins of its groups, not by their order', () => {
    const key = toolsVenvKey('3.11.7', ['wheel', 'uv']);
    expect(key).toMatch(/^py3\.11\.7-uv\+wheel-[0-9a-f]{12}$/);
    expect(toolsVenvKey('3.11.7', ['uv', 'wheel', 'uv'])).toBe(key);
    expect(toolsVenvKey('3.11.8', ['wheel', 'uv'])).not.toBe(key);
    expect(toolsVenvKey('3.11.7', ['wheel'])).not.toBe(key);
  });
});

describe('ensureToolsVenv', () => {
  let python: PythonInterpreter;
  let options: ToolsVenvOptions & { log: ReturnType<typeof recordingLogger> };

  beforeAll(async () => {
    const probe = await run('python3', ['-c', 'import sys; print(sys.executable); print("%d.%d.%d" % sys.version_info[:3])'], { cwd: '/', env: process.env, timeoutMs: 30_000 });
    const [path, version] = probe.stdout.trim().split('\n');
    python = { path, version };
    // The user's environment as it is (pip's proxy, certificates and find-links settings included).
    options = { cacheRoot: tempDir('tools-cache'), python, groups: ['wheel'], env: process.env, log: recordingLogger(), timeoutMs: 600_000 };
  });

  // The two tests below share one venv (creating one takes seconds): the second continues from the first.
  it('creates the venv once with pip, stamps it, runs its tools, and reuses it on the next call', async () => {
    const venv = await ensureToolsVenv(options);
    const key = toolsVenvKey(python.version, ['wheel']);
    const dir = join(options.cacheRoot, 'tools', key);
    expect(venv).toMatchObject({ dir, python: join(dir, 'bin', 'python'), key, groups: ['wheel'], requirements: [...TOOL_GROUPS.wheel], reused: false });
    expect(readStamp(dir)).toEqual({ key, python: python.version, groups: ['wheel'], requirements: [...TOOL_GROUPS.wheel] });
    expect(readdirSync(join(options.cacheRoot, 'locks'))).toEqual([]);
    expect(options.log.lines[0]).toBe(`> Creating tools venv ${dir} (python ${python.version}: ${TOOL_GROUPS.wheel.join(' ')})`);
    expect(options.log.lines).toContain(`$ ${python.path} -m venv ${dir}`);
    expect(options.log.lines).toContain(`$ ${dir}/bin/python -m pip install --disable-pip-version-check --no-input ${TOOL_GROUPS.wheel.join(' ')}`);
    expect(options.log.lines).toContainEqual(expect.stringMatching(/^ {2}Successfully installed .*auditwheel-6\.8\.2/));

    expect((await runTool(venv.bin('auditwheel'), ['--version'])).stdout).toMatch(/^auditwheel 6\.8\.2 installed at /);
    expect((await runTool(venv.bin('twine'), ['--version'])).stdout).toMatch(/^twine version 7\.0\.0 /);
    expect((await runTool(venv.bin('wheel'), ['version'])).stdout).toBe('wheel 0.48.0\n');
    expect((await runTool(venv.python, ['-c', 'import auditwheel.wheel_abi, sys; print(sys.prefix)'])).stdout).toBe(`${dir}\n`);
    expect(() => venv.bin('moto_server')).toThrow(new ToolError(`The tools venv ${dir} has no program moto_server (it has auditwheel, twine, wheel from the groups wheel).`));

    const log = recordingLogger();
    const again = await ensureToolsVenv({ ...options, log });
    expect(again).toMatchObject({ dir, key, reused: true });
    expect(log.lines).toEqual([`Tools venv ${dir} is ready (${TOOL_GROUPS.wheel.join(' ')}); reusing it.`]);
  });

  it('recreates a venv whose creation was interrupted (no stamp)', async () => {
    const dir = join(options.cacheRoot, 'tools', toolsVenvKey(python.version, ['wheel']));
    rmSync(join(dir, 'vllm-wheels-venv.json'));
    writeFileSync(join(dir, 'half-written'), '');
    const log = recordingLogger();
    const venv = await ensureToolsVenv({ ...options, log });
    expect(venv.reused).toBe(false);
    expect(existsSync(join(dir, 'vllm-wheels-venv.json'))).toBe(true);
    expect(existsSync(join(dir, 'half-written'))).toBe(false);
    expect(log.lines[0]).toMatch(/^> Creating tools venv /);
    expect((await runTool(venv.bin('twine'), ['--version'])).stdout).toMatch(/^twine version 7\.0\.0 /);
  });

  it('in a dry run writes nothing and prints the commands', async () => {
    const cacheRoot = tempDir('tools-dry');
    const log = recordingLogger();
    // The caller's pip settings that would install outside the venv are removed for these commands.
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, PIP_USER: '1', PIP_NO_INPUT: '1', PIP_INDEX_URL: 'https://me:hunter22@mirror.example/simple/' };
    const venv = await ensureToolsVenv({ ...options, env, cacheRoot, groups: ['servers', 'uv'], log, dryRun: true });
    expect(readdirSync(cacheRoot)).toEqual([]);
    const toolsDir = join(cacheRoot, 'tools');
    const venvEnv = '[dry-run]   env: PIP_DISABLE_PIP_VERSION_CHECK=1 (removed: PIP_USER)';
    expect(log.lines.filter((l) => l.startsWith('[dry-run]'))).toEqual([
      `[dry-run] would run (cwd ${toolsDir}): ${python.path} -m venv ${venv.dir}\n${venvEnv}`,
      `[dry-run] would run (cwd ${toolsDir}): ${venv.python} -m pip install --disable-pip-version-check --no-input 'pypiserver[passlib]==2.4.2' 'moto[server]==5.2.5' uv==0.13.9\n${venvEnv}`,
      `[dry-run] would write ${venv.dir}/vllm-wheels-venv.json`,
    ]);
    expect(log.lines.join('\n')).not.toContain('hunter22');
    expect(venv.bin('uv')).toBe(join(venv.dir, 'bin', 'uv'));
  });

  it('the shared test venv (every group) runs each tool', async () => {
    const venv = await testToolsVenv();
    expect(venv.groups).toEqual(['servers', 'uv', 'wheel']);
    expect((await runTool(venv.bin('auditwheel'), ['--version'])).stdout).toMatch(/^auditwheel 6\.8\.2 /);
    expect((await runTool(venv.bin('uv'), ['--version'])).stdout).toMatch(/^uv 0\.13\.9 /);
    expect((await runTool(venv.bin('pypi-server'), ['--version'])).stdout.trim()).toBe('2.4.2');
    expect((await runTool(venv.bin('moto_server'), ['--help'])).stdout).toMatch(/^usage: moto_server /);
    expect((await runTool(venv.python, ['-c', 'import passlib.apache; print("ok")'])).stdout).toBe('ok\n');
  });
});
