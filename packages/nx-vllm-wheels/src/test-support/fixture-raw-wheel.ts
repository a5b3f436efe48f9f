import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAclRepo, createOnednnRepo, createTorchIndex, createVllmRepo, TORCH_WHEEL_SCRIPT, type FixtureRepo } from '../../../../tools/fixtures/index.js';
import { writeCompilerShim } from './compiler-shim';
import { tempDir } from './temp';
import { testCacheRoot } from './tools';
import { armLevelEnv, buildEnv, buildRawWheel, commitProfile, isaPinEdit, PINNED_CPU_FLAGS } from '../lib/build';
import type { CpuIsa } from '../lib/isa';
import { silentLogger } from '../lib/log';
import { run } from '../lib/process';
import { describePython, ensureBuildVenv, readBuildRequirements } from '../lib/python';
import { wheelConfigSchema } from '../config';

/** The cross toolchain an aarch64 build here uses (Debian's g++-aarch64-linux-gnu). */
const CROSS = { cc: 'aarch64-linux-gnu-gcc', cxx: 'aarch64-linux-gnu-g++' };
const TAG = 'v0.34.0';
const ONEDNN_X86_TAG = 'v3.13';
const ACL_TAG = 'v52.6.0';

interface Shared {
  work: string;
  repo: FixtureRepo;
  onednn: FixtureRepo;
  acl: FixtureRepo;
  venvPython: string;
  /** The fixture torch built for aarch64, unpacked: its TorchConfig.cmake and aarch64 libraries. */
  armTorch: string;
}

let shared: Promise<Shared> | undefined;

const ENV = { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C.UTF-8', PIP_CACHE_DIR: join(testCacheRoot(), 'pip') };

async function sh(command: string, args: string[], cwd: string, env: Record<string, string | undefined> = ENV): Promise<string> {
  return (await run(command, args, { cwd, env, timeoutMs: 10 * 60_000 })).stdout.trim();
}

/** The fixture repositories, the build venv (as the plugin makes it, cached between runs) and the aarch64 torch. */
function prepare(): Promise<Shared> {
  shared ??= (async () => {
    const work = tempDir('fixture-raw-wheel');
    const repo = createVllmRepo(join(work, 'vllm'));
    const onednn = createOnednnRepo(join(work, 'onednn'));
    const acl = createAclRepo(join(work, 'acl'));
    // A fixed place for the torch index, so the venv keyed by its URL is reused by the next run.
    const cacheRoot = join(testCacheRoot(), 'fixture-raw-wheel');
    const torchIndex = createTorchIndex(join(cacheRoot, 'torch-index'));
    const requirements = await readBuildRequirements(['requirements/build/cpu.txt'], async (path) => sh('git', ['show', `${TAG}:${path}`], repo.path).catch(() => undefined));
    const venv = await ensureBuildVenv({
      venvsDir: join(cacheRoot, 'venvs'),
      locksDir: join(cacheRoot, 'locks'),
      python: await describePython('python3', ENV),
      requirements,
      torchIndexUrl: torchIndex.indexUrl,
      extraIndexUrls: [],
      installer: 'pip',
      env: ENV,
      log: silentLogger,
      dryRun: false,
    });
    const out = await sh('python3', [TORCH_WHEEL_SCRIPT, '--out', join(work, 'torch-aarch64'), '--cc', CROSS.cc], work);
    const armTorch = join(work, 'torch-aarch64', 'site');
    await sh('python3', ['-c', 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])', out.split('\n').pop() as string, armTorch], work);
    return { work, repo, onednn, acl, venvPython: venv.python, armTorch };
  })();
  return shared;
}

/** A clone of `repo` at `ref`, made for one build (vLLM builds ACL inside its checkout). */
async function checkout(repo: FixtureRepo, ref: string, dir: string): Promise<string> {
  await sh('git', ['clone', '--quiet', repo.path, dir], join(dir, '..'));
  await sh('git', ['checkout', '--quiet', '--detach', ref], dir);
  return dir;
}

/**
 * `dist/raw/<variant>` as `nx run <variant>:build` leaves it for a vLLM 0.34.0-shaped variant of `arch` at
 * `isa` (the fixture's unified family): the raw wheel and build-info.json, built here for real by the
 * plugin's own build step (buildRawWheel: `python setup.py bdist_wheel --py-limited-api=cp38` in the build
 * venv, with the plugin's build env and, on aarch64, its ISA pin edit, pinned cpuinfo and VLLM_CPU_ARM_*).
 *
 * aarch64 is built on this x86-64 machine with Debian's cross compilers (CC/CXX), an aarch64 fixture torch
 * (Torch_DIR) and CMake told the target processor. Two stand-ins make vLLM's build (which compiles for the
 * machine it runs on) do that: setup.py picks its extensions by `platform.machine()`, so python answers
 * "aarch64" (a sitecustomize), and bdist_wheel takes `plat_name = linux_aarch64` from setup.cfg; CMake
 * runs in native mode (CMAKE_CROSSCOMPILING=FALSE) so FindPython takes the build python's headers, which
 * the limited API makes the same on both architectures. x86_64 is built natively with a GCC 13 stand-in
 * (the unified family's x86 gate), as the e2e tests do.
 */
export async function buildFixtureRawWheel(options: { outDir: string; arch: 'x86_64' | 'aarch64'; isa: CpuIsa }): Promise<string> {
  const s = await prepare();
  const dir = tempDir(`fixture-raw-${options.arch}-${options.isa}`);
  const src = await checkout(s.repo, TAG, join(dir, 'src'));
  const sourceDateEpoch = Number(await sh('git', ['log', '-1', '--format=%ct'], src));
  const onednn = await checkout(s.onednn, options.arch === 'aarch64' ? s.onednn.head : ONEDNN_X86_TAG, join(dir, 'onednn'));
  const profile = commitProfile({ cmake: readFileSync(join(src, 'cmake/cpu_extension.cmake'), 'utf8'), setupPy: readFileSync(join(src, 'setup.py'), 'utf8'), where: TAG });
  const variant = wheelConfigSchema.parse({ distribution: 'vllm-cpu', device: 'cpu', arch: options.arch, isa: options.isa });
  let variantEnv: Record<string, string>;
  let extra: Record<string, string> = {};
  let pinned: string | undefined;
  if (options.arch === 'aarch64') {
    isaPinEdit.apply(src);
    pinned = PINNED_CPU_FLAGS[options.isa];
    const acl = await checkout(s.acl, ACL_TAG, join(dir, 'acl'));
    const cmakeArgs = ['-DCMAKE_SYSTEM_NAME=Linux', '-DCMAKE_SYSTEM_PROCESSOR=aarch64', '-DCMAKE_CROSSCOMPILING=FALSE', `-DTorch_DIR=${join(s.armTorch, 'torch/share/cmake/Torch')}`];
    variantEnv = { ...armLevelEnv(profile, variant, { file: 'wheel.json', commit: TAG }), CC: CROSS.cc, CXX: CROSS.cxx, CMAKE_ARGS: cmakeArgs.join(' '), ACL_ROOT_DIR: acl };
    const machine = join(dir, 'machine');
    mkdirSync(machine);
    writeFileSync(join(machine, 'sitecustomize.py'), 'import platform\nplatform.machine = lambda: "aarch64"\n');
    writeFileSync(join(src, 'setup.cfg'), '[bdist_wheel]\nplat_name = linux_aarch64\n');
    extra = { PYTHONPATH: machine };
  } else {
    const gcc13 = writeCompilerShim(join(dir, 'bin'), { version: '13.2.0' });
    variantEnv = { CC: gcc13.cc, CXX: gcc13.cxx, VLLM_FIXTURE_CXX_COMPILER_VERSION: '13.2.0' };
  }
  const env = {
    ...buildEnv({
      base: ENV,
      variantEnv,
      device: 'cpu',
      venvPython: s.venvPython,
      sourceDir: src,
      sourceDateEpoch,
      ccacheDir: join(dir, 'ccache'),
      pretendVersion: TAG.slice(1),
      pinnedCpuFlags: pinned,
      thirdPartySources: { FETCHCONTENT_SOURCE_DIR_ONEDNN: onednn },
    }),
    ...extra,
  };
  const wheel = await buildRawWheel({
    sourceDir: src,
    venvPython: s.venvPython,
    env,
    shownEnv: {},
    outDir: options.outDir,
    buildInfo: { variant: 'fixture', commit: s.repo.tags[TAG], isa: options.isa, family: profile.family, libraries: profile.dispatchLibraries, sourceDateEpoch, env: {} },
    log: silentLogger,
    dryRun: false,
    timeoutMs: 10 * 60_000,
  });
  return wheel as string;
}
