import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../test-support/temp';
import { WheelValidationError } from './problems';
import { hashBytes, serializeRecord, type RecordEntry } from './record';
import { renameWheel } from './rename';
import { validateWheel } from './validate';
import { dosDateTimeFromEpoch, METHOD_STORED } from './zip-format';
import { ZipWriter } from './zip-write';

const DI = 'vllm-0.9.0.dist-info';
const BIG = 'vllm/_C.abi3.so';

type Defect = 'none' | Refused;
/** Every one is refused: in members copied unchanged (only their content shows most), or in one it rewrites. */
type Refused = 'hashes' | 'stored-hash' | 'crc' | 'deflate' | 'size' | 'metadata-hash';

/**
 * A wheel whose large member (read through the large-member path) and two small ones may be wrong:
 * RECORD hashes that do not match, a flipped byte (CRC), a broken deflate stream, a RECORD size that
 * is not the member's; or whose METADATA's RECORD hash does not match.
 */
async function writeWheel(defect: Defect): Promise<string> {
  const path = join(tempDir('verify-copy'), 'vllm-0.9.0-py3-none-any.whl');
  const modified = dosDateTimeFromEpoch(1700000000);
  const out = await ZipWriter.create(path);
  const rows: RecordEntry[] = [];
  const add = async (name: string, data: Buffer, wrongHash: boolean, stored = false, wrongSize = false) => {
    await out.addData(name, data, { modified, level: 1, ...(stored && { method: METHOD_STORED }) });
    rows.push({ path: name, hash: hashBytes(wrongHash ? Buffer.from('other') : data), size: data.length + (wrongSize ? 1 : 0) });
  };
  await add('vllm/a.py', Buffer.from('a = 1\n'), defect === 'hashes');
  await add(BIG, randomBytes(3 * 1024 * 1024), defect === 'hashes' || defect === 'stored-hash', defect === 'stored-hash', defect === 'size');
  await add('vllm/b.py', Buffer.from('b = 1\n'), defect === 'hashes');
  await add(`${DI}/METADATA`, Buffer.from('Metadata-Version: 2.1\nName: vllm\nVersion: 0.9.0\n'), defect === 'metadata-hash');
  await add(`${DI}/WHEEL`, Buffer.from('Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n'), false);
  await out.addData(`${DI}/RECORD`, serializeRecord([...rows, { path: `${DI}/RECORD` }]), { modified });
  await out.finish();
  if (defect === 'crc' || defect === 'deflate') {
    const bytes = readFileSync(path);
    const data = bytes.indexOf(BIG) + BIG.length; // the local header's name, then the data
    if (defect === 'deflate') bytes.fill(0xff, data, data + 2);
    else bytes[data + 1024 * 1024] ^= 1;
    writeFileSync(path, bytes);
  }
  return path;
}

async function errorOf(run: Promise<unknown>): Promise<WheelValidationError> {
  const error = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WheelValidationError);
  return error as WheelValidationError;
}

/**
 * renameWheel checks every member's content against RECORD (hash and size) and the archive (CRC-32,
 * deflate stream), the members it copies unchanged too, before anything is written: an untrusted wheel
 * (from a remote cache) is refused with validateWheel's error, never carried into the output.
 */
describe('renameWheel and the content of the members it copies', () => {
  it('copies a sound wheel', async () => {
    const input = await writeWheel('none');
    const outputDir = tempDir('verify-copy-out');
    const { path, keptInPlace } = await renameWheel({ input, outputDir, distribution: 'vllm-cpu' });
    expect(keptInPlace).toBe(3); // a.py, the large member and b.py stay in place in the kernel's copy
    expect((await validateWheel(path)).record.map((r) => r.path)).toContain(BIG);
  });

  it.each<Refused>(['hashes', 'stored-hash', 'crc', 'deflate', 'size', 'metadata-hash'])("refuses a wheel with %s wrong, with validateWheel's error, leaving nothing", async (defect) => {
    const input = await writeWheel(defect);
    const expected = await errorOf(validateWheel(input));
    expect(expected.problems).toHaveLength(defect === 'hashes' ? 3 : 1);
    const fragment = { hashes: "didn't match RECORD", 'stored-hash': "didn't match RECORD", crc: 'CRC-32', deflate: 'cannot be read', size: `hash / size of ${BIG} didn't match RECORD`, 'metadata-hash': `hash / size of ${DI}/METADATA didn't match RECORD` }[defect];
    expect(expected.problems.every((p) => p.includes(fragment))).toBe(true);

    const outputDir = tempDir('verify-copy-out');
    const error = await errorOf(renameWheel({ input, outputDir, distribution: 'vllm-cpu' }));
    expect(error.problems).toEqual(expected.problems);
    expect(readdirSync(outputDir)).toEqual([]);
  });

  it('with bad options too, lists the options\' problems and the content\'s, like before', async () => {
    const input = await writeWheel('hashes');
    const outputDir = tempDir('verify-copy-out');
    const error = await errorOf(renameWheel({ input, outputDir, distribution: '-bad-' }));
    expect(error.problems).toHaveLength(4);
    expect(error.problems[0]).toContain('METADATA Name');
    expect(error.problems.slice(1).every((p) => p.includes("didn't match RECORD"))).toBe(true);
  });
});
