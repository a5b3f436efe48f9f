import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../test-support/temp';
import { WheelValidationError } from './problems';
import { renameWheel, type RenameWheelOptions } from './rename';
import { fixtureMembers, type Member, recordFor, runPython, writeFixtureWheel } from './test-support/python';
import { validateWheel } from './validate';
import { getHeader, getHeaders } from './metadata';

/**
 * renameWheel keeps the members before the first one that changes where they are, in a kernel copy of
 * the input, instead of writing them again. These tests hold it to writing the same bytes as when every
 * member goes through the writer: an extra field in a member's local header (which the writer does not
 * write) makes the copy unusable from that member on, so the same input can be renamed both ways.
 */
const OPTIONS: Omit<RenameWheelOptions, 'input' | 'outputDir'> = {
  distribution: 'vllm-cpu-avx512',
  version: '0.9.0.post1',
  metadataUpdates: { Summary: 'vLLM for AVX-512 CPUs' },
  description: { text: '# vllm-cpu-avx512\n', contentType: 'text/markdown' },
  addMembers: [{ path: 'vllm_cpu_avx512_platform.py', data: 'def register():\n    return None\n' }],
  entryPoints: { 'vllm.platform_plugins': { cpu: 'vllm_cpu_avx512_platform:register' } },
  platformTag: 'manylinux_2_17_x86_64',
};

/** An extra field with an id no reader knows (zipfile keeps it; the writer drops it). */
const EXTRA = Buffer.from([0xfe, 0xca, 0x00, 0x00]);

function withExtraOn(members: Member[], names: (name: string) => boolean): Member[] {
  return members.map((m) => (names(m.name) ? { ...m, extra: EXTRA } : m));
}

describe('renameWheel keeps the unchanged beginning of the wheel in place', () => {
  let inputs: { name: string; path: string; keptInPlace: number }[];
  beforeAll(async () => {
    const members = fixtureMembers();
    inputs = [
      { name: 'canonical headers', path: await writeFixtureWheel(tempDir('in-place')), keptInPlace: 4 },
      { name: 'an extra field in the third member', path: await writeFixtureWheel(tempDir('in-place'), withExtraOn(members, (n) => n === 'vllm/platforms/__init__.py')), keptInPlace: 2 },
      { name: 'an extra field in every member', path: await writeFixtureWheel(tempDir('in-place'), withExtraOn(members, () => true)), keptInPlace: 0 },
    ];
  });

  it.each([
    ['keeping the input times', undefined],
    ['clamping the times to SOURCE_DATE_EPOCH (patched in place)', 1577934245],
  ])('writes the same bytes however many members stay in place, %s', async (_, sourceDateEpoch) => {
    const outputs: Buffer[] = [];
    for (const input of inputs) {
      const result = await renameWheel({ ...OPTIONS, input: input.path, outputDir: tempDir('in-place-out'), sourceDateEpoch });
      expect({ input: input.name, keptInPlace: result.keptInPlace }).toEqual({ input: input.name, keptInPlace: input.keptInPlace });
      outputs.push(readFileSync(result.path));
      if (outputs.length === 1) {
        await validateWheel(result.path);
        const { stdout } = await runPython(['-m', 'zipfile', '-t', result.path], { cwd: tempDir('in-place-py') });
        expect(stdout).toContain('Done testing');
      }
    }
    expect(outputs[1].equals(outputs[0])).toBe(true);
    expect(outputs[2].equals(outputs[0])).toBe(true);
  });

  it.each([
    ['METADATA', ['METADATA'], {}],
    ['WHEEL (retagged), ahead of METADATA', ['WHEEL', 'METADATA'], { platformTag: 'manylinux_2_17_x86_64' }],
    ['entry_points.txt (merged), ahead of METADATA', ['entry_points.txt', 'METADATA'], { entryPoints: { 'vllm.platform_plugins': { cpu: 'vllm.platforms:register' } } }],
  ] as const)('never keeps in place a member it rewrites under the same name: %s', async (_, first, options) => {
    // Same distribution and version: the .dist-info keeps its name, so only the rewrite can tell.
    const di = 'vllm-0.9.0+cpu.dist-info';
    const members = fixtureMembers().filter((m) => !m.name.endsWith('/RECORD'));
    const ahead = first.map((name) => members.find((m) => m.name === `${di}/${name}`)!);
    const ordered = [...members.filter((m) => !m.name.startsWith(`${di}/`)), ...ahead, ...members.filter((m) => m.name.startsWith(`${di}/`) && !ahead.includes(m))];
    const input = await writeFixtureWheel(tempDir('in-place'), [...ordered, { name: `${di}/RECORD`, data: recordFor(ordered, `${di}/RECORD`) }]);
    const { path, keptInPlace } = await renameWheel({ input, outputDir: tempDir('in-place-out'), distribution: 'vllm', metadataUpdates: { Summary: 'renamed in place' }, ...options });
    expect(keptInPlace).toBe(5); // the package's members, up to the first .dist-info member
    const info = await validateWheel(path);
    expect(getHeader(info.metadata, 'Summary')).toBe('renamed in place');
    if ('platformTag' in options) expect(getHeaders(info.wheel, 'Tag')).toEqual(['py3-none-manylinux_2_17_x86_64']);
    if ('entryPoints' in options) {
      const { stdout } = await runPython(['-c', `import zipfile,sys; print(zipfile.ZipFile(sys.argv[1]).read('${di}/entry_points.txt').decode())`, path], { cwd: tempDir('in-place-py') });
      expect(stdout).toContain('cpu = vllm.platforms:register');
    }
  });

  it('gives the output the mode of a new file, not the input\'s', async () => {
    const input = await writeFixtureWheel(tempDir('in-place'));
    chmodSync(input, 0o400);
    const outputDir = tempDir('in-place-out');
    const { path, keptInPlace } = await renameWheel({ input, outputDir, distribution: 'vllm-cpu' });
    expect(keptInPlace).toBeGreaterThan(0);
    writeFileSync(join(outputDir, 'new-file'), '');
    expect((statSync(path).mode & 0o7777).toString(8)).toBe((statSync(join(outputDir, 'new-file')).mode & 0o7777).toString(8));
  });

  it.each([
    ['a wheel whose content is refused', async () => ({ input: await writeFixtureWheel(tempDir('in-place'), fixtureMembers().map((m) => (m.name === 'vllm/cli.py' ? { ...m, data: 'x' } : m))) })],
    [
      'a retag of a wheel whose WHEEL tags disagree with its name (found once the copy has started)',
      async () => {
        const members = fixtureMembers()
          .filter((m) => !m.name.endsWith('/RECORD'))
          .map((m) => (m.name.endsWith('/WHEEL') ? { ...m, data: 'Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py2-none-any\n' } : m));
        const record = 'vllm-0.9.0+cpu.dist-info/RECORD';
        return { input: await writeFixtureWheel(tempDir('in-place'), [...members, { name: record, data: recordFor(members, record) }]), platformTag: 'manylinux_2_17_x86_64' };
      },
    ],
  ])('leaves nothing behind for %s, not even the output directory it created', async (_, make) => {
    const { input, ...options } = await make();
    const base = tempDir('in-place-out');
    const outputDir = join(base, 'new', 'dist');
    const error = await renameWheel({ input, outputDir, distribution: 'vllm-cpu', ...options }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WheelValidationError);
    expect(existsSync(join(base, 'new'))).toBe(false);
    expect(readdirSync(base)).toEqual([]);
  });
});

