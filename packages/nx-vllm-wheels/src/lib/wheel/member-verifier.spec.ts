import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import { tempDir } from '../../test-support/temp';
import { WheelValidationError } from './problems';
import { hashBytes, type RecordHashAlgorithm, serializeRecord, type RecordEntry } from './record';
import { openWheel, type OpenWheelOptions, validateWheel } from './validate';
import { LargeMembers, MemberVerifier } from './member-verifier';
import { dosDateTimeFromEpoch, METHOD_DEFLATED, METHOD_STORED, type ZipMethod } from './zip-format';
import { ZipWriter } from './zip-write';

/**
 * The large-member chain (MemberVerifier): the producer reads 4 MiB of compressed bytes at a time and
 * inflates them into one of three 4 MiB slots shared with the hasher, counts and CRCs the slot and
 * hands it on; the hasher hashes it and frees it; members one after the other. A slot handed on
 * twice, out of order or not at all, or overwritten before it is hashed, changes what is hashed: a
 * sound wheel is then refused, and a byte flipped at a chunk boundary may go unseen. The main thread's
 * fallback (zlib's stream: 2 MiB reads, 1 MiB chunks) is held to the same cases.
 */
const MiB = 1024 * 1024;
const DI = 'vllm-0.9.0.dist-info';
const BIG = 'vllm/_C.abi3.so';
const modified = dosDateTimeFromEpoch(1700000000);

interface Large {
  name: string;
  content: Buffer;
  method: ZipMethod;
  /** What is stored instead of `content`: the archive and RECORD describe `content`, this is inflated. */
  stored?: Buffer;
  /** Which of the two checks the flipped byte is left to: the archive's CRC-32 is of `stored` for 'hash'. */
  caughtBy?: 'crc' | 'hash';
  /** Compressed bytes cut off the end (the deflate stream does not end). */
  cut?: number;
  /** RECORD's hash algorithm for it (sha256 by default, the one the worker starts with). */
  algorithm?: RecordHashAlgorithm;
}

/** A wheel with small members around the large ones, written raw (the archive says what `content` is). */
async function writeWheel(large: Large[]): Promise<string> {
  const path = join(tempDir('member-verifier'), 'vllm-0.9.0-py3-none-any.whl');
  const out = await ZipWriter.create(path);
  const rows: RecordEntry[] = [];
  const small = async (name: string, text: string) => {
    await out.addData(name, text, { modified });
    rows.push({ path: name, hash: hashBytes(Buffer.from(text)), size: Buffer.byteLength(text) });
  };
  await small('vllm/__init__.py', '');
  for (const m of large) {
    const inflated = m.stored ?? m.content;
    const whole = m.method === METHOD_DEFLATED ? deflateRawSync(inflated, { level: 1 }) : inflated;
    const raw = whole.subarray(0, whole.length - (m.cut ?? 0));
    const crc = crc32(m.caughtBy === 'hash' ? inflated : m.content);
    await out.addRawFrom(m.name, { method: m.method, flags: 0, crc32: crc, compressedSize: raw.length, uncompressedSize: m.content.length, modified, versionMadeBy: 0x0314, externalAttributes: (0o100755 << 16) >>> 0 }, (write) => write(raw));
    rows.push({ path: m.name, hash: hashBytes(m.content, m.algorithm), size: m.content.length });
    await small(`${m.name}.py`, '# beside it\n');
  }
  await small(`${DI}/METADATA`, 'Metadata-Version: 2.1\nName: vllm\nVersion: 0.9.0\n');
  await small(`${DI}/WHEEL`, 'Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n');
  await out.addData(`${DI}/RECORD`, serializeRecord([...rows, { path: `${DI}/RECORD` }]), { modified });
  await out.finish();
  return path;
}

function flipped(content: Buffer, at: number): Buffer {
  const copy = Buffer.from(content);
  copy[at] ^= 0x10;
  return copy;
}

async function problemsOf(path: string, options: OpenWheelOptions = {}): Promise<readonly string[]> {
  const error = await validateWheel(path, options).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WheelValidationError);
  return (error as WheelValidationError).problems;
}

/** Incompressible content: stored, it is read in 2 MiB chunks; deflated, zlib gives it back in 1 MiB chunks. */
const noise = randomBytes(7 * MiB);
/** Text-like content that deflates ~25:1, so one compressed chunk inflates into many. */
const text = Buffer.from(Array.from({ length: 24 * MiB / 64 }, (_, i) => `line ${String(i % 997).padStart(4, '0')} of a shared library\n`.padEnd(64, '.')).join(''));

describe.each([
  ['on the worker', {}],
  ['on the main thread, where the worker cannot drive zlib (another Node)', { verifier: { nativeInflate: false } }],
] as const)('large members verified %s', (_, options: OpenWheelOptions) => {
  it('accepts sound large members, stored and deflated, incompressible and highly compressible, one after the other', async () => {
    const path = await writeWheel([
      { name: BIG, content: noise, method: METHOD_DEFLATED },
      { name: 'vllm/_C_stored.abi3.so', content: noise.subarray(MiB), method: METHOD_STORED },
      { name: 'vllm/_C_text.abi3.so', content: text, method: METHOD_DEFLATED },
    ]);
    const info = await validateWheel(path, options);
    expect(info.record.map((r) => r.path)).toContain('vllm/_C_text.abi3.so');
  });

  // Chunk boundaries: zlib's output (4 MiB on the worker, 1 MiB on the main thread) and the reads (4 MiB on the worker, 2 MiB on the main thread).
  const boundaries = [0, MiB - 1, MiB, 2 * MiB - 1, 2 * MiB, 4 * MiB - 1, 4 * MiB, 4 * MiB + 1, 7 * MiB - 1];
  describe.each([
    ['deflated', METHOD_DEFLATED],
    ['stored', METHOD_STORED],
  ] as const)('%s', (_, method) => {
    it.each(boundaries)('refuses one byte flipped at offset %i, seen by the CRC-32 and by the RECORD hash alone', async (at) => {
      for (const caughtBy of ['crc', 'hash'] as const) {
        const path = await writeWheel([{ name: BIG, content: noise, method, stored: flipped(noise, at), caughtBy }]);
        const [problem, ...more] = await problemsOf(path, options);
        expect(more).toEqual([]);
        expect(problem).toContain(caughtBy === 'crc' ? `${BIG} fails its CRC-32 check` : `hash / size of ${BIG} didn't match RECORD`);
      }
    });
  });

  it.each(['sha224', 'sha384', 'sha512'] as const)('verifies a RECORD row hashed with %s (hashed again with it), and refuses a wrong one', async (algorithm) => {
    const members: Large[] = [
      { name: BIG, content: noise, method: METHOD_DEFLATED, algorithm },
      { name: 'vllm/_C_next.abi3.so', content: text, method: METHOD_DEFLATED },
    ];
    await validateWheel(await writeWheel(members), options);
    members[0] = { ...members[0], stored: flipped(noise, 5 * MiB), caughtBy: 'hash' };
    const path = await writeWheel(members);
    expect(await problemsOf(path, options)).toEqual([expect.stringContaining(`hash / size of ${BIG} didn't match RECORD (RECORD: ${algorithm}=`)]);
  });

  it('refuses a deflate stream that does not end, as zlib says', async () => {
    const path = await writeWheel([{ name: BIG, content: text, method: METHOD_DEFLATED, cut: 10 }]);
    expect(await problemsOf(path, options)).toEqual([`In ${path}, ${BIG} cannot be read: unexpected end of file`]);
  });

  it('refuses a byte flipped late in a member one read inflates into many chunks, and in the member after it', async () => {
    for (const target of [0, 1]) {
      const members: Large[] = [
        { name: BIG, content: text, method: METHOD_DEFLATED },
        { name: 'vllm/_C_next.abi3.so', content: noise, method: METHOD_DEFLATED },
      ];
      const at = target === 0 ? text.length - 100 : 3 * MiB + 5;
      members[target] = { ...members[target], stored: flipped(members[target].content, at), caughtBy: 'hash' };
      const path = await writeWheel(members);
      expect(await problemsOf(path, options)).toEqual([expect.stringContaining(`hash / size of ${members[target].name} didn't match RECORD`)]);
    }
  });
});

describe('LargeMembers', () => {
  it('refuses what the worker read where ZipReader did not find the data (the archive changed meanwhile)', async () => {
    const path = await writeWheel([{ name: BIG, content: noise, method: METHOD_DEFLATED }]);
    const wheel = await openWheel(path);
    const entry = wheel.zip.get(BIG)!;
    await wheel.zip.close();
    const large = new LargeMembers(path);
    expect(await large.result(entry, 'sha256')).toMatchObject({ kind: 'read', size: noise.length });
    expect(await large.result({ ...entry, dataOffset: entry.dataOffset + 1 }, 'sha256')).toEqual({
      kind: 'error',
      message: `its data was read at offset ${entry.dataOffset}, not ${entry.dataOffset + 1} (was the archive changed while being read?)`,
    });
    await large.close();
  });
});

describe('MemberVerifier', () => {
  it("drives zlib's native stream on this Node, and answers `unsupported` without it", async () => {
    const path = await writeWheel([{ name: BIG, content: noise, method: METHOD_DEFLATED }]);
    const wheel = await openWheel(path);
    const entry = wheel.zip.get(BIG)!;
    await wheel.zip.close();
    for (const [nativeInflate, kind] of [
      [undefined, 'read'],
      [false, 'unsupported'],
    ] as const) {
      const verifier = new MemberVerifier(path, { nativeInflate });
      const { dataOffset, result } = await verifier.inflate(entry, 'sha256');
      expect(result.kind).toBe(kind);
      if (kind === 'read') expect(dataOffset).toBe(entry.dataOffset); // found from the local header, as ZipReader found it
      await verifier.close();
    }
  });
});
