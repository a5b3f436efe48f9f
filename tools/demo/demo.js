#!/usr/bin/env node
// The offline demo: a real Nx workspace (demo-workspace/) with the repository's five CPU variants,
// built from the vLLM-shaped fixture source and the fixture CPU torch index, and the ROCm projects
// (base wheels, vllm-rocm at the fixture's v0.34.0, their index) built with the fixture ROCm toolchain.
// Run with `npm run demo`.
// VLLM_WHEELS_DEMO_DIR puts the workspace elsewhere (default: demo-workspace/ in the repository).
'use strict';
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const fixtures = require('../fixtures/index.js');
const { writeCompilerShim } = require('../fixtures/compiler-shim.js');
const { layOutWorkspace, fileUrl, NX_BIN, SEED_VARIANTS: VARIANTS } = require('../fixtures/workspace.js');

const repo = path.resolve(__dirname, '../..');
// A relative VLLM_WHEELS_DEMO_DIR is relative to where the user typed `npm run demo` (npm's INIT_CWD).
const ws = process.env.VLLM_WHEELS_DEMO_DIR
  ? path.resolve(process.env.INIT_CWD || process.cwd(), process.env.VLLM_WHEELS_DEMO_DIR)
  : path.join(repo, 'demo-workspace');
const fixtureDir = path.join(ws, '.fixture');
// The demo's machine cache is always its own, even when the environment sets VLLM_WHEELS_CACHE_DIR:
// the fixture's mirror and worktrees have the same names as the real vLLM's (git/vllm.git,
// src/<variant>), so sharing a real cache would re-point its mirror at the fixture and check the
// fixture out over the real worktrees (and their CMake build trees).
const machineCache = path.join(ws, '.vllm-wheels-cache');
// Written to .env (which Nx loads into every task, for the nx commands the user types later) and passed
// to the demo's own nx runs explicitly, since variables already in the environment win over .env.
// The fixture's CMake sees an AVX-512 host and a GCC >= 12.3 (this machine's may be 12.2, which
// upstream would refuse VNNI/BF16/AMX to), so the five variants differ by their flags alone. The
// plugin, which asks the compiler itself, gets a g++-13/gcc-13 test double over this machine's gcc
// (tools/fixtures/compiler-shim.js) as CXX/CC.
const compilers = path.join(fixtureDir, 'bin');
// The fixture ROCm (tools/fixtures/rocm: a hipcc stand-in over the host compiler, HIP runtime stubs).
const rocmRoot = path.join(fixtureDir, 'rocm');
const demoEnv = {
  VLLM_WHEELS_CACHE_DIR: machineCache,
  VLLM_FIXTURE_CPUINFO: path.join(fixtureDir, 'cpuinfo-avx512'),
  VLLM_FIXTURE_CXX_COMPILER_VERSION: '13.2.0',
  CXX: path.join(compilers, 'g++-13'),
  CC: path.join(compilers, 'gcc-13'),
  ROCM_PATH: rocmRoot,
};
const insideRepo = !path.relative(repo, ws).startsWith('..') && !path.isAbsolute(path.relative(repo, ws));

const say = (text) => console.log(`\n\x1b[1m== ${text}\x1b[0m`);

function createWorkspace() {
  if (!fs.existsSync(path.join(fixtureDir, 'vllm-src'))) {
    fixtures.createVllmRepo(path.join(fixtureDir, 'vllm-src'));
    fixtures.createTorchIndex(path.join(fixtureDir, 'torch-index'));
    fixtures.writeCpuinfo(path.join(fixtureDir, 'cpuinfo-avx512'), fixtures.CPU_FLAGS.avx512);
  }
  writeCompilerShim(compilers, { version: '13.2.0' });
  const srcDir = path.join(fixtureDir, 'vllm-src');
  const tags = Object.fromEntries(
    execFileSync('git', ['tag', '--list'], { cwd: srcDir, encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map((t) => [t, execFileSync('git', ['rev-parse', `${t}^{commit}`], { cwd: srcDir, encoding: 'utf8' }).trim()]),
  );
  layOutWorkspace({
    root: ws,
    repo: { url: fileUrl(srcDir), tags },
    torchIndexUrl: fileUrl(path.join(fixtureDir, 'torch-index', 'simple')),
    description: 'Demo: the vLLM-shaped fixture source (tools/fixtures/vllm-src) instead of GitHub.',
    // Outside the repository, nx and the plugin are found through a link to its node_modules.
    linkNodeModules: !insideRepo && !fs.existsSync(path.join(ws, 'node_modules')),
  });
  // The landing page's install commands name where the index is: here, on this disk.
  const indexFile = path.join(ws, 'packages/wheel-index/index.json');
  const indexConfig = JSON.parse(fs.readFileSync(indexFile, 'utf8'));
  fs.writeFileSync(indexFile, `${JSON.stringify({ ...indexConfig, publicUrl: landingUrl('') }, null, 2)}\n`);
  layOutRocm(srcDir, tags);
  fs.writeFileSync(path.join(ws, '.gitignore'), `${insideRepo ? '' : 'node_modules\n'}dist\n.nx\n.fixture\n.vllm-wheels-cache\n.venv\n.venv-rocm\n`);
  fs.writeFileSync(path.join(ws, '.env'), `${Object.entries(demoEnv).map(([k, v]) => `${k}=${v}`).join('\n')}\n`);
  initGitRepository();
}

/**
 * The ROCm projects, all tagged device:rocm by inference: the environment `rocm` (rocm.json, the fixture's
 * base wheels as its `directory`), a second vLLM source `vllm-0.34` at the fixture's v0.34.0 (the fixture's
 * ROCm build exists only in its unified family), the variant `vllm-rocm` built from it, and `rocm-index`.
 */
function layOutRocm(srcDir, tags) {
  if (!fs.existsSync(path.join(rocmRoot, 'bin', 'hipcc'))) fixtures.createRocmToolchain(rocmRoot, { rocmVersion: '7.1.0' });
  const pkg = (...parts) => path.join(ws, 'packages', ...parts);
  // Made once: the wheels' bytes are the base-wheels target's inputs.
  if (!fs.existsSync(pkg('rocm', 'base-wheels'))) fixtures.createRocmBaseWheels(pkg('rocm', 'base-wheels'));
  const { python } = JSON.parse(fs.readFileSync(pkg('torch-cpu', 'torch.json'), 'utf8'));
  const writeJson = (file, value) => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
  };
  writeJson(pkg('vllm-0.34', 'vllm.json'), {
    description: "Demo: the fixture source's v0.34.0 (its unified family, which has vLLM's ROCm build), for vllm-rocm.",
    repository: fileUrl(srcDir),
    ref: 'v0.34.0',
    commit: tags['v0.34.0'],
    patches: [],
  });
  writeJson(pkg('rocm', 'rocm.json'), {
    description: "Demo: ROCm 7.1 for MI300 (gfx942), the fixture's base wheels (torch, triton, torchvision, amdsmi with +git… versions).",
    device: 'rocm',
    rocmVersion: '7.1',
    gpuArchs: ['gfx942'],
    python,
    baseWheels: { directory: 'base-wheels' },
  });
  writeJson(pkg('vllm-rocm', 'wheel.json'), { distribution: 'vllm-rocm', source: 'vllm-0.34', device: 'rocm', env: {} });
  fs.writeFileSync(pkg('vllm-rocm', 'README.md'), '# vllm-rocm\n\nvLLM for AMD GPUs (ROCm 7.1, gfx942), built by the vllm-wheels demo from the fixture source.\n');
  writeJson(pkg('rocm-index', 'index.json'), {
    description: 'The ROCm index: vllm-rocm, its base wheels and its dependencies; installs with one pip command.',
    variants: ['vllm-rocm'],
    publicUrl: rocmIndexUrl(''),
  });
}

/** The ROCm index's URL (dist/rocm-index/rocm-index, as a file:// URL) with `file` appended. */
function rocmIndexUrl(file) {
  return `${fileUrl(path.join(ws, 'dist/rocm-index/rocm-index'))}${file ? `/${file}` : ''}`;
}

/** The index's URL (dist/index, as a file:// URL) with `file` appended. */
function landingUrl(file) {
  return `${fileUrl(path.join(ws, 'dist/index'))}${file ? `/${file}` : ''}`;
}

/**
 * The demo is a git repository of its own (the repository's .gitignore leaves demo-workspace/ out), with
 * one commit on main, so `nx affected` has a base: an edit to a variant's wheel.json makes it affected.
 */
function initGitRepository() {
  if (fs.existsSync(path.join(ws, '.git'))) return;
  const git = (...args) => execFileSync('git', ['-c', 'user.name=vllm-wheels demo', '-c', 'user.email=demo@localhost', '-c', 'commit.gpgsign=false', ...args], { cwd: ws, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-q', '-m', 'The demo workspace as npm run demo made it');
}

function nx(args) {
  const started = Date.now();
  const result = spawnSync(process.execPath, [NX_BIN, ...args], {
    cwd: ws,
    stdio: 'inherit',
    env: { ...process.env, ...demoEnv, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' },
  });
  if (result.status !== 0) {
    console.error(`\nnx ${args.join(' ')} failed (exit ${result.status}).`);
    process.exit(result.status || 1);
  }
  return (Date.now() - started) / 1000;
}

function installAndImport(variant) {
  const venv = path.join(ws, '.venv');
  if (!fs.existsSync(path.join(venv, 'bin', 'python'))) execFileSync('python3', ['-m', 'venv', venv], { stdio: 'inherit' });
  const python = path.join(venv, 'bin', 'python');
  const dir = path.join(ws, 'dist/wheels', variant);
  const wheel = path.join(dir, fs.readdirSync(dir).find((f) => f.endsWith('.whl')));
  const torchIndex = fileUrl(path.join(fixtureDir, 'torch-index', 'simple'));
  execFileSync(python, ['-m', 'pip', 'uninstall', '-y', '-q', ...VARIANTS], { stdio: 'ignore' });
  // From the index `wheel-index:index` built, as users install from the published one.
  const index = fileUrl(path.join(ws, 'dist/index/simple')) + '/';
  // As the landing page says: the variant from the index alone, then its dependencies (here only torch, from
  // the CPU index). One command with both file:// indexes would make pip warn, for each package, that the
  // other index has no folder for it ("Location 'file:///…' is ignored").
  const pip = (args) => execFileSync(python, ['-m', 'pip', 'install', '-q', '--disable-pip-version-check', '--no-cache-dir', ...args], { stdio: 'inherit', env: { ...process.env, PIP_FIND_LINKS: '' } });
  pip(['--no-deps', '--index-url', index, variant]);
  pip(['--index-url', torchIndex, variant]);
  const code = [
    'import importlib.metadata as m, json, vllm, vllm._C as c',
    `print("installed:", "${variant}", m.version("${variant}"))`,
    'print("vllm._C compiled with:", json.dumps(c.compiled_isa()))',
  ].join('\n');
  console.log(execFileSync(python, ['-c', code], { encoding: 'utf8' }));
  return { python, wheel };
}

/**
 * Installs vllm-rocm into a fresh venv with the one command the ROCm index's landing page gives (no other
 * index: the base wheels and the dependencies are in it), then loads its HIP kernels. The HIP runtime is
 * the fixture ROCm's (LD_LIBRARY_PATH), as a ROCm machine's comes from /opt/rocm.
 */
function installRocm() {
  const page = fs.readFileSync(path.join(ws, 'dist/rocm-index/rocm-index/index.html'), 'utf8');
  const command = /<pre><code>(pip install vllm-rocm --index-url \S+)<\/code><\/pre>/.exec(page)?.[1].replace(/&amp;/g, '&');
  if (!command) throw new Error(`The ROCm index's landing page gives no "pip install vllm-rocm --index-url …" command: ${rocmIndexUrl('index.html')}`);
  const venv = path.join(ws, '.venv-rocm');
  fs.rmSync(venv, { recursive: true, force: true });
  const { python: version } = JSON.parse(fs.readFileSync(path.join(ws, 'packages/rocm/rocm.json'), 'utf8'));
  execFileSync(`python${version}`, ['-m', 'venv', venv], { stdio: 'inherit' });
  const python = path.join(venv, 'bin', 'python');
  console.log(`$ ${command}`);
  // Only the index the command names: no pip configuration (file or PIP_* variables) adds another index.
  const pipEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^PIP_(INDEX_URL|EXTRA_INDEX_URL|FIND_LINKS|CONFIG_FILE)$/.test(k)));
  Object.assign(pipEnv, { PIP_CONFIG_FILE: '/dev/null', PIP_DISABLE_PIP_VERSION_CHECK: '1' });
  execFileSync(python, ['-m', ...command.split(' '), '-q', '--no-cache-dir'], { stdio: 'inherit', env: pipEnv });
  const code = [
    'import importlib.metadata as m, vllm._C as c',
    'names = ("vllm-rocm", "torch", "triton", "torchvision", "amdsmi")',
    'print("installed:", ", ".join(f"{n} {m.version(n)}" for n in names if any(d.metadata["Name"] == n for d in m.distributions())))',
    'print("vllm._C compiled for:", c.offload_archs(), "| HIP runtime:", c.hip_runtime_version(), "| kernel:", c.run_kernel())',
  ].join('\n');
  console.log(execFileSync(python, ['-c', code], { encoding: 'utf8', env: { ...process.env, LD_LIBRARY_PATH: path.join(rocmRoot, 'lib') } }));
  return { python, command };
}

say(`Creating the demo workspace in ${ws}`);
createWorkspace();
const userCache = process.env.VLLM_WHEELS_CACHE_DIR;
if (userCache && path.resolve(userCache) !== machineCache) {
  console.log(`Your environment sets VLLM_WHEELS_CACHE_DIR=${userCache}; the demo leaves that cache alone and uses ${machineCache}.`);
}

say('Building all five variants: npx nx run-many -t wheel --projects=tag:device:cpu');
const first = nx(['run-many', '-t', 'wheel', '--projects=tag:device:cpu', '--outputStyle=static']);

say('Running it again: every build comes from the Nx cache');
const second = nx(['run-many', '-t', 'wheel', '--projects=tag:device:cpu', '--outputStyle=static']);

say('The index of every wheel: npx nx run wheel-index:index');
nx(['run', 'wheel-index:index', '--outputStyle=static']);

say('Installing vllm-cpu-avx512 from that index into a venv, torch from the (fixture) CPU index');
const { python, wheel } = installAndImport('vllm-cpu-avx512');

say(`ROCm with the fixture ROCm (ROCM_PATH=${rocmRoot}): npx nx run-many -t wheel --projects=tag:device:rocm`);
const rocmFirst = nx(['run-many', '-t', 'wheel', '--projects=tag:device:rocm', '--outputStyle=static']);

say('ROCm again: base wheels, build and wheel come from the Nx cache');
const rocmSecond = nx(['run-many', '-t', 'wheel', '--projects=tag:device:rocm', '--outputStyle=static']);

say('The ROCm index (base wheels, dependencies, vllm-rocm): npx nx run rocm-index:index');
nx(['run', 'rocm-index:index', '--outputStyle=static']);

say("Installing vllm-rocm into a fresh venv with the one command the ROCm index's landing page gives");
const rocm = installRocm();

say('Where everything is');
console.log(`  first run:        ${first.toFixed(1)} s`);
console.log(`  cached rerun:     ${second.toFixed(1)} s`);
console.log(`  workspace:        ${ws}`);
console.log(`  wheels:           ${path.join(ws, 'dist/wheels')}  (<variant>/*.whl, e.g. ${path.relative(ws, wheel)})`);
console.log(`  raw builds:       ${path.join(ws, 'dist/raw')}`);
console.log(`  index:            ${path.join(ws, 'dist/index')}  (simple/ for pip and uv; index.html says how to install)`);
console.log(`  landing page:     ${landingUrl('index.html')}  (open it in a browser: how to install from this index)`);
console.log(`  machine cache:    ${machineCache}  (git mirror, per-variant worktrees, build venvs)`);
console.log(`  venv:             ${python}`);
console.log(`  rocm first run:   ${rocmFirst.toFixed(1)} s`);
console.log(`  rocm rerun:       ${rocmSecond.toFixed(1)} s`);
console.log(`  fixture rocm:     ${rocmRoot}  (ROCM_PATH in .env: hipcc stand-in, HIP runtime stubs)`);
console.log(`  rocm base wheels: ${path.join(ws, 'dist/base-wheels/rocm')}  (torch, triton, torchvision, amdsmi with +git… stripped)`);
console.log(`  rocm wheel:       ${path.join(ws, 'dist/wheels/vllm-rocm')}`);
console.log(`  rocm wheelhouse:  ${path.join(ws, 'dist/wheelhouse/vllm-rocm')}  (base + dependencies + vllm-rocm, manifest.json)`);
console.log(`  rocm index:       ${path.join(ws, 'dist/rocm-index/rocm-index')}`);
console.log(`  rocm landing:     ${rocmIndexUrl('index.html')}  (${rocm.command})`);
console.log(`  rocm venv:        ${rocm.python}`);
const cdTo = path.relative(process.env.INIT_CWD || process.cwd(), ws);
console.log(`\nKeep going:\n  cd ${cdTo && !cdTo.startsWith('..') ? cdTo : ws}`);
// The workspace's .env names the demo's cache, but a variable already in the environment wins.
if (userCache && path.resolve(userCache) !== machineCache) console.log(`  unset VLLM_WHEELS_CACHE_DIR   # so nx here uses the demo's cache (.env), not yours`);
console.log(`  npx nx graph\n  npx nx show project vllm-cpu-avx512\n  npx nx run vllm-cpu:wheel --dry-run\n  npx nx run-many -t wheel   # cached\n  npx nx run wheel-index:index   # cached\n  npx nx run-many -t wheel --projects=tag:device:rocm   # cached\n  npx nx run vllm-rocm:build --dry-run\n  npx nx show projects --affected   # after editing a variant's wheel.json: the demo is a git repository of its own`);
