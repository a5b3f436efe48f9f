import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { SharedFixture } from './fixture';
import { NX_BIN, TEST_CACHE } from './paths';
import { testToolsBin } from '../../src/test-support/tools';
import { layOutWorkspace, SEED_VARIANTS } from './fixture';
import { writeCompilerShim } from '../../../../tools/fixtures/compiler-shim.js';

export { SEED_VARIANTS };

export interface NxResult {
  code: number;
  output: string;
}

export interface TestWorkspace {
  root: string;
  env: Record<string, string | undefined>;
  compilerLog: string;
  nx(args: string[], extraEnv?: Record<string, string | undefined>): Promise<NxResult>;
  /** Like nx(), but throws with the output when nx fails. */
  nxOk(args: string[], extraEnv?: Record<string, string | undefined>): Promise<string>;
  readJson<T = Record<string, unknown>>(path: string): T;
  writeJson(path: string, value: unknown): void;
  /** Compiler calls recorded since the last call (and clears the log). */
  takeCompilerCalls(): string[];
}

export interface WorkspaceOptions {
  fixture: SharedFixture;
  root: string;
  /** The machine cache (mirror, worktrees, venvs); tests share one to save time unless they test it. */
  machineCache: string;
  variants?: readonly string[];
  /** Which fake host CPU the build sees. */
  host?: keyof SharedFixture['cpuinfo'];
  /**
   * Fake compiler version for the fixture's GCC >= 12.3 gate (see tools/fixtures), and of the g++-N/gcc-N
   * test double put first on PATH for the plugin's compiler choice (tools/fixtures/compiler-shim.js).
   */
  cxxVersion?: string;
  ref?: string;
  /**
   * What makes the build venv: uv (the default when the run's tools venv is known, as on a machine with uv
   * on PATH: seconds instead of pip's ten or more) or pip (uv kept off PATH, the plugin's fallback).
   */
  buildVenvInstaller?: 'uv' | 'pip';
}

/**
 * A real Nx workspace in a temp dir: the repository's own variant configs, pointed at the fixture
 * source and the fixture torch index, using the built plugin through node_modules. Nx runs as a real
 * process with no daemon, no cloud, and a cache inside the workspace.
 */
export function createTestWorkspace(options: WorkspaceOptions): TestWorkspace {
  const { root, fixture } = options;
  layOutWorkspace({
    root,
    repo: fixture.repo,
    torchIndexUrl: fixture.torch.indexUrl,
    ref: options.ref,
    variants: options.variants,
    linkNodeModules: true,
  });

  const compilerLog = join(root, '.compiler-calls.log');
  const env = fixtureEnv(options, compilerLog);
  const nx = (args: string[], extraEnv: Record<string, string | undefined> = {}) => runNx(root, args, { ...env, ...extraEnv });
  return {
    root,
    env,
    compilerLog,
    nx,
    nxOk: async (args, extraEnv) => {
      const r = await nx(args, extraEnv);
      if (r.code !== 0) throw new Error(`nx ${args.join(' ')} failed (${r.code}):\n${r.output}`);
      return r.output;
    },
    readJson: (path) => JSON.parse(readFileSync(join(root, path), 'utf8')),
    writeJson: (path, value) => writeFileSync(join(root, path), `${JSON.stringify(value, null, 2)}\n`),
    takeCompilerCalls: () => {
      if (!existsSync(compilerLog)) return [];
      const calls = readFileSync(compilerLog, 'utf8').split('\n').filter(Boolean);
      rmSync(compilerLog);
      return calls;
    },
  };
}

/**
 * The environment nx runs with against the fixture: the compiler recorder and test double on PATH, the
 * machine cache, the git redirect to the fixture's oneDNN, a fake host CPU, and nx without daemon or cloud.
 */
export function fixtureEnv(options: Pick<WorkspaceOptions, 'fixture' | 'root' | 'machineCache' | 'host' | 'cxxVersion' | 'buildVenvInstaller'>, compilerLog: string): Record<string, string | undefined> {
  const { root, fixture } = options;
  const uvDir = options.buildVenvInstaller === 'pip' ? undefined : uvOnlyBin(fixture.root);
  // One per version for the whole fixture, written once (a build of another workspace may be running it).
  const shimDir = options.cxxVersion ? join(fixture.root, `compilers-${options.cxxVersion}`) : undefined;
  if (shimDir && !existsSync(shimDir)) writeCompilerShim(shimDir, { version: options.cxxVersion });
  const shim = shimDir ? { dir: shimDir } : undefined;
  return {
    ...cleanEnv(process.env),
    PATH: [fixture.fakeBin, ...(shim ? [shim.dir] : []), ...(uvDir ? [uvDir] : []), process.env.PATH].join(delimiter),
    ...NX_TEST_ENV,
    NX_CACHE_DIRECTORY: join(root, '.nx', 'cache'),
    NX_WORKSPACE_DATA_DIRECTORY: join(root, '.nx', 'workspace-data'),
    VLLM_WHEELS_CACHE_DIR: options.machineCache,
    // GitHub is not reachable: a firewalled user's git redirect sends oneDNN's URL to the fixture's.
    ...fixture.gitRedirectEnv,
    PIP_CACHE_DIR: join(TEST_CACHE, 'pip'),
    UV_CACHE_DIR: join(TEST_CACHE, 'uv'),
    VLLM_FIXTURE_CPUINFO: fixture.cpuinfo[options.host ?? 'avx512'],
    ...(options.cxxVersion ? { VLLM_FIXTURE_CXX_COMPILER_VERSION: options.cxxVersion } : {}),
    VLLM_WHEELS_TEST_COMPILER_LOG: compilerLog,
    MAX_JOBS: '2',
  };
}

/**
 * A directory holding only the tools venv's `uv` (never its python or pip, which would shadow the
 * machine's), or undefined when the run has no tools venv (a spec run without the global setup).
 */
function uvOnlyBin(fixtureRoot: string): string | undefined {
  const tools = testToolsBin();
  if (!tools) return undefined;
  const dir = join(fixtureRoot, 'uv-bin');
  if (!existsSync(join(dir, 'uv'))) {
    mkdirSync(dir, { recursive: true });
    const temp = join(dir, `.uv-${process.pid}`);
    symlinkSync(join(tools, 'uv'), temp);
    renameSync(temp, join(dir, 'uv'));
  }
  return dir;
}

/**
 * How every test runs nx: no daemon, no cloud, no TUI, and plugins loaded in nx's own process. Nx's
 * default isolates each plugin (its own and ours) in a worker process per command, which costs about four
 * times the CPU of a whole `nx show projects`; the root-workspace and demo specs keep that default, so a
 * plugin that works only in-process would still fail there.
 */
export const NX_TEST_ENV = { NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', NX_ISOLATE_PLUGINS: 'false' } as const;

/** The test runner's env without anything that would steer nx, git or the build from outside. */
export function cleanEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) {
    if (/^(NX_|JEST_|VLLM_|GIT_|AWS_|UV_|npm_)/.test(k) || ['NODE_OPTIONS', 'CCACHE_DIR', 'MAX_JOBS', 'CXX', 'CC'].includes(k)) continue;
    out[k] = v;
  }
  return out;
}

/** Runs the repository's nx in `cwd`; the output comes back without colour codes (CI may force colours). */
export function runNx(cwd: string, args: string[], env: Record<string, string | undefined>): Promise<NxResult> {
  return runNodeScript(NX_BIN, args, cwd, env);
}

/** Runs a Node script to its end (killed after 20 minutes): exit code and stdout+stderr without colour codes. */
export function runNodeScript(script: string, args: string[], cwd: string, env: Record<string, string | undefined>): Promise<NxResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { cwd, env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c) => (output += c));
    child.stderr.on('data', (c) => (output += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20 * 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (process.env.VLLM_WHEELS_TEST_VERBOSE) process.stdout.write(output);
      resolve({ code: code ?? 1, output: output.replace(/\x1b\[[0-9;]*m/g, '') });
    });
  });
}

/** Tasks nx ran for real vs took from the cache, read from its static output. */
export function taskOutcomes(output: string): { ran: string[]; cached: string[] } {
  const ran: string[] = [];
  const cached: string[] = [];
  for (const line of output.split('\n')) {
    const m = /^\s*>\s+nx run ([\w.@-]+:[\w-]+)(.*)$/.exec(line.replace(/\x1b\[[0-9;]*m/g, ''));
    if (!m) continue;
    if (/\[(local cache|remote cache|existing outputs match the cache, left as is)\]/.test(m[2])) cached.push(m[1]);
    else ran.push(m[1]);
  }
  return { ran: [...new Set(ran)].sort(), cached: [...new Set(cached)].sort() };
}

/** sha256 of every file in dist/wheels/<variant>/ (wheels and their audit reports), by "variant/file". */
export function wheelHashes(ws: TestWorkspace, variants: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of variants) {
    for (const f of readdirSync(join(ws.root, 'dist/wheels', v))) {
      out[`${v}/${f}`] = createHash('sha256').update(readFileSync(join(ws.root, 'dist/wheels', v, f))).digest('hex');
    }
  }
  return out;
}
