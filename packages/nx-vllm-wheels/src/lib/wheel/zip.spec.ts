import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { inflateRawSync } from 'node:zlib';
import { tempDir } from '../../test-support/temp';
import { WheelError } from '../errors';
import { python, writeZipWithPython } from './test-support/python';
import { dosDateTimeFromEpoch, epochFromDosDateTime, METHOD_DEFLATED, METHOD_STORED } from './zip-format';
import { type ZipEntry, ZipReader } from './zip-read';
import { type KeptMember, planKeep, ZipWriter } from './zip-write';

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Python's view of a zip: testzip result and, per member, name, mode, size, crc, time, content (base64). */
async function pythonView(path: string) {
  const { stdout } = await python(
    `
import base64, json, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    bad = z.testzip()
    print(json.dumps({"bad": bad, "members": [
        {"name": i.filename, "mode": i.external_attr >> 16, "size": i.file_size, "crc": i.CRC, "time": list(i.date_time),
         "method": i.compress_type, "data": base64.b64encode(z.read(i)).decode() if i.file_size < 1000000 else None}
        for i in z.infolist()]}))
`,
    { cwd: process.cwd(), args: [path] },
  );
  return JSON.parse(stdout) as { bad: string | null; members: { name: string; mode: number; size: number; crc: number; time: number[]; method: number; data: string | null }[] };
}

async function expectRejected(path: string, ...fragments: string[]): Promise<void> {
  const error = await ZipReader.open(path).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WheelError);
  for (const f of fragments) expect((error as Error).message).toContain(f);
  expect((error as Error).message).toContain(path);
}

const T2020 = dosDateTimeFromEpoch(1577934245); // 2020-01-02T03:04:05Z

describe('DOS times', () => {
  it('converts SOURCE_DATE_EPOCH in UTC with 2-second resolution and clamps to 1980..2107', () => {
    expect(epochFromDosDateTime(T2020)).toBe(1577934244);
    expect(epochFromDosDateTime(dosDateTimeFromEpoch(0))).toBe(Date.UTC(1980, 0, 1) / 1000);
    expect(epochFromDosDateTime(dosDateTimeFromEpoch(5e9))).toBe(Date.UTC(2107, 11, 31, 23, 59, 58) / 1000);
    expect(dosDateTimeFromEpoch(1000)).toBeLessThan(T2020);
  });
});

describe('ZipWriter', () => {
  it('writes stored, deflated, streamed, directory and non-ASCII members that Python reads back', async () => {
    const dir = tempDir('zip');
    const path = join(dir, 'out.zip');
    const zip = await ZipWriter.create(path);
    await zip.addData('pkg/', '', { modified: T2020 });
    await zip.addData('pkg/a.py', 'print("a")\n', { modified: T2020 });
    await zip.addData('pkg/run.sh', '#!/bin/sh\n', { modified: T2020, mode: 0o100755, method: METHOD_STORED });
    await zip.addData('pkg/stream.txt', Readable.from([Buffer.from('x'.repeat(100000)), Buffer.from('y')]), { modified: T2020 });
    await zip.addData('pkg/café.txt', 'ok', { modified: T2020 });
    await zip.addData('pkg/empty', '', { modified: T2020 });
    await zip.finish();

    const view = await pythonView(path);
    expect(view.bad).toBeNull();
    expect(view.members.map((m) => [m.name, m.mode.toString(8), m.method, m.time])).toEqual([
      ['pkg/', '40755', 0, [2020, 1, 2, 3, 4, 4]],
      ['pkg/a.py', '100644', 8, [2020, 1, 2, 3, 4, 4]],
      ['pkg/run.sh', '100755', 0, [2020, 1, 2, 3, 4, 4]],
      ['pkg/stream.txt', '100644', 8, [2020, 1, 2, 3, 4, 4]],
      ['pkg/café.txt', '100644', 8, [2020, 1, 2, 3, 4, 4]],
      ['pkg/empty', '100644', 8, [2020, 1, 2, 3, 4, 4]],
    ]);
    expect(Buffer.from(view.members[3].data!, 'base64').toString()).toBe('x'.repeat(100000) + 'y');
    expect(Buffer.from(view.members[4].data!, 'base64').toString()).toBe('ok');

    const reader = await ZipReader.open(path);
    expect(reader.entries.map((e) => [e.name, e.isDirectory, e.mode.toString(8)])).toEqual(
      view.members.map((m) => [m.name, m.name.endsWith('/'), m.mode.toString(8)]),
    );
    expect((await reader.readBuffer(reader.get('pkg/stream.txt')!, 1e6)).length).toBe(100001);
    await reader.close();
  });

  it('copies members raw: same compressed bytes, CRC, sizes and mode, no recompression', async () => {
    const dir = tempDir('zip');
    const source = join(dir, 'in.zip');
    await writeZipWithPython(source, [
      { name: 'a.txt', data: 'hello '.repeat(1000) },
      { name: 'bin/tool', data: Buffer.from([0, 1, 2, 3]), mode: 0o755, deflate: false },
    ]);
    const input = await ZipReader.open(source);
    const target = join(dir, 'copy.zip');
    const out = await ZipWriter.create(target);
    for (const e of input.entries) await out.addRaw(`copied/${e.name}`, e, input.openRaw(e));
    await out.finish();

    const copy = await ZipReader.open(target);
    for (const e of input.entries) {
      const c = copy.get(`copied/${e.name}`)!;
      expect([c.method, c.crc32, c.compressedSize, c.uncompressedSize, c.mode, c.modified]).toEqual([e.method, e.crc32, e.compressedSize, e.uncompressedSize, e.mode, e.modified]);
      expect((await readAll(copy.openRaw(c))).equals(await readAll(input.openRaw(e)))).toBe(true);
    }
    expect(inflateRawSync(await readAll(input.openRaw(input.get('a.txt')!))).toString()).toBe('hello '.repeat(1000));
    await Promise.all([input.close(), copy.close()]);
    const view = await pythonView(target);
    expect(view.bad).toBeNull();
    expect(view.members.map((m) => [m.name, m.mode.toString(8), m.time])).toEqual([
      ['copied/a.txt', '100644', [2024, 1, 2, 3, 4, 6]],
      ['copied/bin/tool', '100755', [2024, 1, 2, 3, 4, 6]],
    ]);
  });

  it('refuses a raw copy whose byte count does not match the source', async () => {
    const dir = tempDir('zip');
    const out = await ZipWriter.create(join(dir, 'x.zip'));
    const source = { method: METHOD_DEFLATED, flags: 0, crc32: 0, compressedSize: 10, uncompressedSize: 10, modified: T2020, versionMadeBy: 0x314, externalAttributes: 0 } as const;
    await expect(out.addRaw('x', source, Readable.from([Buffer.alloc(3)]))).rejects.toThrow('expected 10 compressed bytes, got 3');
    await expect(out.addData('y', 'y', { modified: T2020 })).rejects.toThrow('broken by an earlier error');
    await out.abort();
  });

  it('refuses unsafe and duplicate names', async () => {
    const out = await ZipWriter.create(join(tempDir('zip'), 'x.zip'));
    await expect(out.addData('../x', 'x', { modified: T2020 })).rejects.toThrow(`member "../x" into`);
    await out.addData('a', 'x', { modified: T2020 });
    await expect(out.addData('a', 'x', { modified: T2020 })).rejects.toThrow('Cannot write a into');
    await out.abort();
  });

  it('writes ZIP64 structures (forced) that Python and the reader accept', async () => {
    const path = join(tempDir('zip'), 'z64.zip');
    const out = await ZipWriter.create(path, { forceZip64: true });
    await out.addData('a.txt', 'a'.repeat(5000), { modified: T2020 });
    await out.addData('b.txt', Readable.from([Buffer.from('bbb')]), { modified: T2020, method: METHOD_STORED });
    await out.finish();
    const view = await pythonView(path);
    expect(view.bad).toBeNull();
    expect(view.members.map((m) => [m.name, m.size])).toEqual([
      ['a.txt', 5000],
      ['b.txt', 3],
    ]);
    const { stdout } = await python('import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); print(z.infolist()[0].extract_version, len(z.infolist()[0].extra))', {
      cwd: process.cwd(),
      args: [path],
    });
    expect(stdout.trim()).toBe('45 28'); // 4.5, and a ZIP64 extra with 3 values in the central directory
    const reader = await ZipReader.open(path);
    expect((await reader.readBuffer(reader.entries[1], 10)).toString()).toBe('bbb');
    await reader.close();
  });

  it('switches to ZIP64 end records past 65535 members', async () => {
    const path = join(tempDir('zip'), 'many.zip');
    const out = await ZipWriter.create(path);
    const count = 70_000;
    for (let i = 0; i < count; i++) await out.addData(`m/${i}`, '', { modified: T2020, method: METHOD_STORED });
    await out.finish();
    const { stdout } = await python('import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); print(len(z.infolist()), z.infolist()[-1].filename)', {
      cwd: process.cwd(),
      args: [path],
    });
    expect(stdout.trim()).toBe(`${count} m/${count - 1}`);
    const reader = await ZipReader.open(path);
    expect(reader.entries.length).toBe(count);
    await reader.close();
  });
});

describe('ZipWriter.extend (continuing a copy of an archive)', () => {
  /** What writing every member of `source` with addRaw (`members` says how), then a new one, gives. */
  async function rewritten(source: ZipReader, members: readonly KeptMember[], path: string, forceZip64: boolean): Promise<Buffer> {
    const out = await ZipWriter.create(path, { forceZip64 });
    for (const [i, m] of members.entries()) await out.addRaw(m.name, m, source.openRaw(source.entries[i]));
    await out.addData('added.txt', 'added\n', { modified: T2020 });
    await out.finish();
    return readFileSync(path);
  }

  it.each([false, true])('keeps the members in place and gives the same bytes as writing them all (forceZip64: %s)', async (forceZip64) => {
    const dir = tempDir('zip');
    const source = join(dir, 'source.zip');
    const w = await ZipWriter.create(source, { forceZip64 });
    const T2024 = dosDateTimeFromEpoch(1704164646);
    await w.addData('a.txt', 'hello '.repeat(1000), { modified: T2024 });
    await w.addData('dir/', '', { modified: T2024 });
    await w.addData('b.bin', Buffer.from([0, 1, 2, 3]), { modified: T2024, method: METHOD_STORED, mode: 0o100755 });
    await w.addData('ünï.txt', 'x', { modified: T2024 });
    await w.finish();
    const reader = await ZipReader.open(source);
    // The first member's time goes back to 2020: its local header is patched in the copy.
    const members: KeptMember[] = reader.entries.map((e, i) => (i === 0 ? { ...e, modified: T2020 } : e));

    const copy = join(dir, 'copy.zip');
    copyFileSync(source, copy);
    const plan = await planKeep(members, (i) => reader.localHeader(reader.entries[i]), { forceZip64 });
    expect([plan.kept, plan.timePatches.length]).toEqual([4, 1]);
    const out = await ZipWriter.extend(copy, plan, { forceZip64 });
    await out.addData('added.txt', 'added\n', { modified: T2020 });
    await out.finish();

    expect(readFileSync(copy).equals(await rewritten(reader, members, join(dir, 'expected.zip'), forceZip64))).toBe(true);
    await reader.close();
    const view = await pythonView(copy);
    expect(view.bad).toBeNull();
    expect(view.members.map((m) => [m.name, m.time[0]])).toEqual([
      ['a.txt', 2020],
      ['dir/', 2024],
      ['b.bin', 2024],
      ['ünï.txt', 2024],
      ['added.txt', 2020],
    ]);
  });

  it('keeps members up to the first whose local header the writer would write differently; the rest is added as usual', async () => {
    const dir = tempDir('zip');
    const source = join(dir, 'source.zip');
    await writeZipWithPython(source, [
      { name: 'a.txt', data: 'a'.repeat(100) },
      { name: 'b.txt', data: 'b'.repeat(100), extra: Buffer.from([0xfe, 0xca, 0, 0]) },
      { name: 'c.txt', data: 'c'.repeat(100) },
    ]);
    const reader = await ZipReader.open(source);
    const copy = join(dir, 'copy.zip');
    copyFileSync(source, copy);
    const plan = await planKeep(reader.entries, (i) => reader.localHeader(reader.entries[i]));
    expect(plan.kept).toBe(1);
    const out = await ZipWriter.extend(copy, plan);
    for (const e of reader.entries.slice(plan.kept)) await out.addRaw(e.name, e, reader.openRaw(e));
    await out.addData('added.txt', 'added\n', { modified: T2020 });
    await out.finish();

    expect(readFileSync(copy).equals(await rewritten(reader, reader.entries, join(dir, 'expected.zip'), false))).toBe(true);
    await reader.close();
    expect((await pythonView(copy)).members.map((m) => m.name)).toEqual(['a.txt', 'b.txt', 'c.txt', 'added.txt']);
  });
});

describe('ZipReader', () => {
  it('decodes names without the UTF-8 flag as CP437, as Python does', async () => {
    const path = join(tempDir('zip'), 'cp437.zip');
    await python(
      `
import sys, zipfile
class Cp437Info(zipfile.ZipInfo):
    __slots__ = ()
    def _encodeFilenameFlags(self):
        return self.filename.encode("cp437"), self.flag_bits
zi = Cp437Info("caf\\u00e9-\\u2591.txt")
with zipfile.ZipFile(sys.argv[1], "w") as z:
    z.writestr(zi, b"x")
`,
      { cwd: process.cwd(), args: [path] },
    );
    const reader = await ZipReader.open(path);
    expect(reader.entries.map((e) => e.name)).toEqual(['café-░.txt']);
    await reader.close();
  });

  it('rejects a file that is not a zip', async () => {
    const path = join(tempDir('zip'), 'not.zip');
    writeFileSync(path, 'just some text\n'.repeat(100));
    await expectRejected(path, 'no end of central directory record');
  });

  it('rejects a truncated zip', async () => {
    const dir = tempDir('zip');
    const path = join(dir, 'full.zip');
    await writeZipWithPython(path, [{ name: 'a.bin', data: Buffer.alloc(50000, 1), deflate: false }]);
    const cut = join(dir, 'cut.zip');
    const bytes = readFileSync(path);
    writeFileSync(cut, bytes.subarray(0, bytes.length - 30)); // end record gone
    await expectRejected(cut, 'not a zip file, or it is truncated');
    const middle = join(dir, 'middle.zip');
    // Remove 1000 data bytes: the end record survives but points past the directory.
    writeFileSync(middle, Buffer.concat([bytes.subarray(0, 20000), bytes.subarray(21000)]));
    await expectRejected(middle, 'truncated or corrupt');
  });

  it.each([
    ['../x', "has a '..' component"],
    ['a/../../x', "has a '..' component"],
    ['/abs', 'is an absolute path'],
    ['C:/x', 'drive letter'],
    ['a\\b', 'backslash'],
  ])('rejects the unsafe name %s (zip-slip)', async (name, why) => {
    const path = join(tempDir('zip'), 'slip.zip');
    await writeZipWithPython(path, [
      { name: 'ok.txt', data: 'ok' },
      { name, data: 'evil' },
    ]);
    await expectRejected(path, JSON.stringify(name), why);
  });

  it('rejects duplicate names, listing every problem at once', async () => {
    const path = join(tempDir('zip'), 'dup.zip');
    await writeZipWithPython(path, [
      { name: 'a.txt', data: '1' },
      { name: 'a.txt', data: '2' },
      { name: '../evil', data: '3' },
    ]);
    await expectRejected(path, 'a.txt appears more than once', '"../evil"', '2 problems');
  });

  it('rejects unsupported compression methods and encrypted members', async () => {
    const dir = tempDir('zip');
    const bz = join(dir, 'bz.zip');
    await python('import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_BZIP2) as z: z.writestr("b.txt", b"x" * 100)', { cwd: dir, args: [bz] });
    await expectRejected(bz, 'b.txt uses compression method 12');

    const enc = join(dir, 'enc.zip');
    await writeZipWithPython(enc, [{ name: 'secret.txt', data: 'x' }]);
    const bytes = readFileSync(enc);
    // Set the "encrypted" flag in the local and central headers.
    for (const sig of [0x04034b50, 0x02014b50]) {
      const at = bytes.indexOf(Buffer.from(Uint32Array.of(sig).buffer));
      const flagsAt = at + (sig === 0x04034b50 ? 6 : 8);
      bytes.writeUInt16LE(bytes.readUInt16LE(flagsAt) | 1, flagsAt);
    }
    writeFileSync(enc, bytes);
    await expectRejected(enc, 'secret.txt is encrypted');
  });

  it('verifies size and CRC-32 at the end of openData', async () => {
    const dir = tempDir('zip');
    const path = join(dir, 'crc.zip');
    await writeZipWithPython(path, [{ name: 'data.bin', data: Buffer.alloc(1000, 7), deflate: false }]);
    const bytes = readFileSync(path);
    bytes[30 + 'data.bin'.length + 500] ^= 0xff; // flip a byte of the stored data
    writeFileSync(path, bytes);
    const reader = await ZipReader.open(path);
    const entry: ZipEntry = reader.entries[0];
    await expect(readAll(reader.openData(entry))).rejects.toThrow(`In ${path}, data.bin fails its CRC-32 check`);
    expect((await readAll(reader.openRaw(entry))).length).toBe(1000); // raw access does not check
    await reader.close();
  });

  it.each([
    ['a small member', 1000],
    ['a streamed member', 600 * 1024],
  ])('stops %s that inflates to more than its declared size', async (_, size) => {
    const dir = tempDir('zip');
    const path = join(dir, 'bomb.zip');
    await writeZipWithPython(path, [{ name: 'bomb.txt', data: Buffer.alloc(size, 0x61) }]);
    const bytes = readFileSync(path);
    const central = bytes.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    bytes.writeUInt32LE(10, central + 24); // declared uncompressed size: 10 bytes
    writeFileSync(path, bytes);
    const reader = await ZipReader.open(path);
    await expect(readAll(reader.openData(reader.entries[0]))).rejects.toThrow(`In ${path}, bomb.txt inflates to more than its declared size of 10 bytes`);
    await reader.close();
  });

  it('reports corrupt deflate data naming the member', async () => {
    const dir = tempDir('zip');
    const path = join(dir, 'bad-deflate.zip');
    await writeZipWithPython(path, [{ name: 'd.txt', data: 'abc'.repeat(3000) }]);
    const bytes = readFileSync(path);
    bytes.fill(0xff, 30 + 'd.txt'.length, 30 + 'd.txt'.length + 8);
    writeFileSync(path, bytes);
    const reader = await ZipReader.open(path);
    await expect(readAll(reader.openData(reader.entries[0]))).rejects.toThrow(`In ${path}, d.txt cannot be read`);
    await reader.close();
  });
});
