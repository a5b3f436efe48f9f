#!/usr/bin/env node
// Benchmarks: each measurement is printed as a ratio against a floor measured in the same run on the
// same machine, never asserted on time. Run with `npm run bench`.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const fixtures = require('../fixtures/index.js');
const { writeCompilerShim } = require('../fixtures/compiler-shim.js');
const { layOutWorkspace, NX_BIN, REPO_ROOT } = require('../fixtures/workspace.js');
const { wheelBenchmarks } = require('./wheel-bench.js');
const { indexBenchmarks } = require('./index-bench.js');
const { nxBenchmarks } = require('./nx-bench.js');
const { kernelBenchmarks } = require('./kernel-bench.js');

const RUNS = Number(process.env.BENCH_RUNS || 5);
// The pipeline rows (nx, checkout) always run; BENCH_ONLY=pipeline skips the kernel-set, large wheel and
// index benchmarks, BENCH_ONLY=pipeline,kernels keeps the kernel set (all by default).
const GROUPS = new Set((process.env.BENCH_ONLY || 'pipeline,kernels,wheel,index').split(',').map((g) => g.trim()));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vllm-wheels-bench-'));
const machineCache = path.join(tmp, 'machine-cache');

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function timed(fn, runs = RUNS) {
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    samples.push(performance.now() - t);
  }
  return median(samples);
}

function run(cmd, args, cwd, env = {}) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

// The fixture's GCC checks see 13.2.0, and so does the plugin's compiler choice: a g++-13 test double
// over this machine's gcc (Debian 12: 12.2, too old for VNNI/BF16/AMX; see tools/fixtures/compiler-shim.js).
const nxEnv = (cpuinfo, compilers) => ({
  NX_DAEMON: 'false',
  NX_NO_CLOUD: 'true',
  NX_TUI: 'false',
  VLLM_WHEELS_CACHE_DIR: machineCache,
  VLLM_FIXTURE_CPUINFO: cpuinfo,
  VLLM_FIXTURE_CXX_COMPILER_VERSION: '13.2.0',
  CXX: compilers.cxx,
  CC: compilers.cc,
});
const nx = (cwd, args, env) => run(process.execPath, [NX_BIN, ...args], cwd, env);

/** The plugin's cache server as its own process (the benchmark's nx calls block this one). */
function startCacheServer(store, token) {
  const { spawn } = require('node:child_process');
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'packages/nx-vllm-wheels/dist/cli/main.js'), 'cache-server', '--port', '0', '--store', store], {
    env: { ...process.env, VLLM_WHEELS_CACHE_READ_WRITE_TOKENS: token },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c) => {
      out += c;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ url: m[1], stop: () => child.kill('SIGTERM') });
    });
    child.on('exit', (code) => reject(new Error(`cache server exited (${code}): ${out}`)));
  });
}

async function main() {
  console.log(`vllm-wheels benchmarks (${RUNS} runs each, median; temp dir ${tmp}; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} on ${os.cpus().length} CPUs)`);
  const fixtureDir = path.join(tmp, 'fixture');
  const repo = fixtures.createVllmRepo(path.join(fixtureDir, 'vllm-src'));
  const torch = fixtures.createTorchIndex(path.join(fixtureDir, 'torch-index'));
  const cpuinfo = fixtures.writeCpuinfo(path.join(fixtureDir, 'cpuinfo'), fixtures.CPU_FLAGS.avx512);
  const ws = layOutWorkspace({ root: path.join(tmp, 'ws'), repo, torchIndexUrl: torch.indexUrl, linkNodeModules: true });
  const env = nxEnv(cpuinfo, writeCompilerShim(path.join(fixtureDir, 'bin'), { version: '13.2.0' }));

  process.stdout.write('warming up (building the five variants once)… ');
  let t = performance.now();
  nx(ws, ['run-many', '-t', 'wheel'], env);
  console.log(`${((performance.now() - t) / 1000).toFixed(1)} s`);

  const rows = [];
  const { rows: nxRows, floor } = nxBenchmarks({ tmp, ws, env, repo, torch, runs: RUNS, median });
  rows.push(...nxRows);

  // Remote hits: a second clone (its own Nx cache and machine cache) reads every variant from the
  // cache server that the first clone filled; compared with the first clone's local hits.
  const token = 'bench-cache-token-0123456789abcdef';
  const server = await startCacheServer(path.join(tmp, 'cache-store'), token);
  const remoteEnv = { ...env, NX_SELF_HOSTED_REMOTE_CACHE_SERVER: server.url, NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN: token };
  // Fill the remote cache from a clone that builds everything (--skip-nx-cache would not upload).
  const seed = layOutWorkspace({ root: path.join(tmp, 'seed'), repo, torchIndexUrl: torch.indexUrl, linkNodeModules: true });
  nx(seed, ['run-many', '-t', 'wheel'], { ...remoteEnv, VLLM_WHEELS_CACHE_DIR: path.join(tmp, 'machine-cache-seed') });
  const clones = Array.from({ length: RUNS }, (_, i) => layOutWorkspace({ root: path.join(tmp, `clone-${i}`), repo, torchIndexUrl: torch.indexUrl, linkNodeModules: true }));
  for (const clone of clones) nx(clone, ['run', 'torch-cpu:install'], { ...env, VLLM_WHEELS_CACHE_DIR: path.join(tmp, 'machine-cache-b') }); // same warm venv, so only the cache differs
  let next = 0;
  const remoteHit = timed(() => nx(clones[next++], ['run-many', '-t', 'wheel'], { ...remoteEnv, VLLM_WHEELS_CACHE_DIR: path.join(tmp, 'machine-cache-b') }));
  const localHit = timed(() => nx(ws, ['run-many', '-t', 'wheel'], remoteEnv));
  server.stop();
  rows.push(['remote-hit `run-many -t wheel` on a fresh clone', remoteHit, 'local-hit run on the first clone', localHit, 'goal <= 1.5x']);

  const checkoutNx = timed(() => nx(ws, ['run', 'vllm:checkout'], env));
  const noopNx = timed(() => nx(floor, ['run', 'vllm:checkout', '--skip-nx-cache'], env));
  rows.push(['`nx run vllm:checkout` (commit present)', checkoutNx, 'the same, a trivial target, uncached', noopNx]);

  // The checkout step itself, without nx: the library call vs the cheapest git command there is.
  const { checkoutSource } = require(path.join(REPO_ROOT, 'packages/nx-vllm-wheels/dist/lib/pipeline'));
  const { machineCache: cacheOf } = require(path.join(REPO_ROOT, 'packages/nx-vllm-wheels/dist/lib/cache-dir'));
  const { silentLogger } = require(path.join(REPO_ROOT, 'packages/nx-vllm-wheels/dist/lib/log'));
  const config = JSON.parse(fs.readFileSync(path.join(ws, 'packages/vllm/vllm.json'), 'utf8'));
  const stepEnv = { ...process.env, ...env };
  const ctx = { workspaceRoot: ws, env: stepEnv, cache: cacheOf(stepEnv), log: silentLogger, dryRun: false };
  const source = { name: 'vllm', configFile: 'packages/vllm/vllm.json', config: { patches: [], ...config } };
  {
    const samples = [];
    for (let i = 0; i < RUNS * 4; i++) {
      t = performance.now();
      await checkoutSource(source, ctx);
      samples.push(performance.now() - t);
    }
    const checkoutLib = median(samples);
    const revParse = timed(() => run('git', ['rev-parse', 'HEAD'], ctx.cache.mirror('vllm')), RUNS * 4);
    rows.push(['checkout no-op, library call', checkoutLib, '`git rev-parse HEAD` in the mirror', revParse]);
    if (GROUPS.has('kernels')) rows.push(...(await kernelBenchmarks({ tmp, fixtures, torch, env })));
    if (GROUPS.has('wheel')) rows.push(...(await wheelBenchmarks(tmp, median)));
    if (GROUPS.has('index')) rows.push(...(await indexBenchmarks(tmp, median)));

    console.log('');
    const w = Math.max(...rows.map((r) => r[0].length));
    const f = Math.max(...rows.map((r) => r[2].length));
    for (const [name, value, floorName, floorValue, note] of rows) {
      console.log(
        `${name.padEnd(w)}  ${value.toFixed(0).padStart(6)} ms   vs ${floorName.padEnd(f)} ${floorValue.toFixed(0).padStart(6)} ms   ratio ${(value / floorValue).toFixed(2)}x${note ? `   (${note})` : ''}`,
      );
    }
    console.log(`load average at the end: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    if (!process.env.BENCH_KEEP) fs.rmSync(tmp, { recursive: true, force: true });
  }
}

Promise.resolve(main()).catch((e) => {
  console.error(e);
  process.exit(1);
});
