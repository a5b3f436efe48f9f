// Benchmark of the `index` step, against a floor measured in the same run (printed, never asserted):
// building the index over ~1 GiB of wheels (BENCH_INDEX_WHEELS x BENCH_INDEX_MB MiB, incompressible,
// stored) vs `openssl dgst -sha256` of the same files, which uses the CPU's SHA instructions: the
// machine's limit for hashing them. Goal: index throughput >= 0.8x openssl's.
// Standalone: `node tools/bench/index-bench.js` (after `npm run build`).
'use strict';
const { execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { performance } = require('node:perf_hooks');

const DIST = path.resolve(__dirname, '../../packages/nx-vllm-wheels/dist');
const { ZipWriter, METHOD_STORED, hashBytes, serializeRecord, createRecordHasher, dosDateTimeFromEpoch } = require(path.join(DIST, 'lib/wheel'));
const { buildIndex } = require(path.join(DIST, 'lib/index'));

const WHEELS = Number(process.env.BENCH_INDEX_WHEELS || 4);
const PAYLOAD_MB = Number(process.env.BENCH_INDEX_MB || 256);

/** A valid wheel of distribution `name` whose one large member is `mb` MiB of random bytes, stored. */
async function largeStoredWheel(dir, name, mb) {
  const escaped = name.replace(/-/g, '_');
  const di = `${escaped}-0.16.0.dist-info`;
  const file = path.join(dir, `${escaped}-0.16.0-cp38-abi3-manylinux_2_28_x86_64.whl`);
  const out = await ZipWriter.create(file);
  const modified = dosDateTimeFromEpoch(1_700_000_000);
  const rows = [];
  const hasher = createRecordHasher();
  let size = 0;
  async function* payload() {
    for (let i = 0; i < mb; i++) {
      const chunk = crypto.randomBytes(1024 * 1024);
      hasher.update(chunk);
      size += chunk.length;
      yield chunk;
    }
  }
  await out.addData('vllm/_C.abi3.so', payload(), { modified, mode: 0o755, method: METHOD_STORED });
  rows.push({ path: 'vllm/_C.abi3.so', hash: hasher.digest(), size });
  const meta = Buffer.from(`Metadata-Version: 2.1\nName: ${name}\nVersion: 0.16.0\nRequires-Python: >=3.9\n\n`);
  const wheel = Buffer.from('Wheel-Version: 1.0\nGenerator: bench\nRoot-Is-Purelib: false\nTag: cp38-abi3-manylinux_2_28_x86_64\n\n');
  for (const [member, data] of [[`${di}/METADATA`, meta], [`${di}/WHEEL`, wheel]]) {
    await out.addData(member, data, { modified });
    rows.push({ path: member, hash: hashBytes(data), size: data.length });
  }
  rows.push({ path: `${di}/RECORD` });
  await out.addData(`${di}/RECORD`, serializeRecord(rows), { modified });
  await out.finish();
  return file;
}

async function indexBenchmarks(tmp, median, runs = 3) {
  const dir = path.join(tmp, 'index-wheels');
  fs.mkdirSync(dir, { recursive: true });
  process.stdout.write(`generating ${WHEELS} wheels of ${PAYLOAD_MB} MiB (incompressible, stored)… `);
  const wheels = [];
  for (let i = 0; i < WHEELS; i++) wheels.push(await largeStoredWheel(dir, `vllm-cpu-bench${i}`, PAYLOAD_MB));
  const total = wheels.reduce((n, w) => n + fs.statSync(w).size, 0);
  console.log(`${(total / 2 ** 30).toFixed(2)} GiB`);

  // Both read from the page cache (the files were just written; one warm-up pass each).
  const openssl = () => execFileSync('openssl', ['dgst', '-sha256', ...wheels], { stdio: ['ignore', 'ignore', 'inherit'] });
  openssl();
  let n = 0;
  // As `wheel-index:index` indexes the variants' wheels (hard-linked), and extraWheels (copied).
  const index = async (hardLink) => {
    const outDir = path.join(tmp, `index-out-${n++}`);
    execFileSync('sync'); // untimed: the previous run's writeback does not land in this one
    const t = performance.now();
    await buildIndex({ wheels, outDir, title: 'bench', installHints: { torchIndexUrl: 'https://download.pytorch.org/whl/cpu' }, hardLink: () => hardLink });
    const ms = performance.now() - t;
    fs.rmSync(outDir, { recursive: true, force: true });
    return ms;
  };
  await index(true);
  const samples = { openssl: [], linked: [], copied: [] };
  for (let i = 0; i < runs; i++) {
    // Interleaved, so a busy neighbour on a shared machine slows all alike.
    execFileSync('sync');
    const t = performance.now();
    openssl();
    samples.openssl.push(performance.now() - t);
    samples.linked.push(await index(true));
    samples.copied.push(await index(false));
  }
  const sslMs = median(samples.openssl);
  const linkedMs = median(samples.linked);
  const copiedMs = median(samples.copied);
  const mibs = (ms) => (total / 2 ** 20 / (ms / 1000)).toFixed(0);
  return [
    [
      `index (buildIndex) of ${WHEELS} x ${PAYLOAD_MB} MiB variant wheels`,
      linkedMs,
      '`openssl dgst -sha256` of the same files',
      sslMs,
      `throughput ${mibs(linkedMs)} vs ${mibs(sslMs)} MiB/s = ${(sslMs / linkedMs).toFixed(2)}x openssl (goal >= 0.8x; wheels hard-linked, as the target does)`,
    ],
    [
      '  the same as extraWheels (copied)',
      copiedMs,
      '`openssl dgst -sha256` of the same files',
      sslMs,
      `throughput ${mibs(copiedMs)} MiB/s = ${(sslMs / copiedMs).toFixed(2)}x openssl (the copy writes 1 GiB to disk)`,
    ],
  ];
}

module.exports = { indexBenchmarks, largeStoredWheel };

if (require.main === module) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vllm-wheels-index-bench-'));
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  indexBenchmarks(tmp, median, Number(process.env.BENCH_RUNS || 3))
    .then((rows) => {
      for (const [name, value, floorName, floorValue, note] of rows) {
        console.log(`${name}  ${value.toFixed(0)} ms   vs ${floorName} ${floorValue.toFixed(0)} ms   ratio ${(value / floorValue).toFixed(2)}x   (${note})`);
      }
    })
    .finally(() => fs.rmSync(tmp, { recursive: true, force: true }))
    .catch((e) => {
      console.error(e);
      process.exit(1);
    });
}
