import { tempDir } from '../../test-support/temp';
import { WheelValidationError } from './problems';
import { FIXTURE_METADATA, fixtureMembers, type Member, recordFor, writeFixtureWheel } from './test-support/python';
import { validateWheel } from './validate';

const DI = 'vllm-0.9.0+cpu.dist-info';

async function problemsOf(members: Member[], fileName?: string): Promise<{ path: string; problems: readonly string[] }> {
  const path = await writeFixtureWheel(tempDir('validate'), members, fileName);
  const error = await validateWheel(path).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WheelValidationError);
  return { path, problems: (error as WheelValidationError).problems };
}

const withoutRecord = () => fixtureMembers().filter((m) => !m.name.endsWith('/RECORD'));
const withRecord = (members: Member[], record = `${DI}/RECORD`) => [...members, { name: record, data: recordFor(members, record) }];

describe('validateWheel', () => {
  it('describes a valid wheel', async () => {
    const path = await writeFixtureWheel(tempDir('validate'));
    const info = await validateWheel(path);
    expect(info).toMatchObject({
      path,
      fileName: { distribution: 'vllm', version: '0.9.0+cpu', pythonTag: 'py3', abiTag: 'none', platformTag: 'any' },
      distInfoDir: DI,
      dataDir: 'vllm-0.9.0+cpu.data',
      recordPath: `${DI}/RECORD`,
    });
    expect(info.record).toHaveLength(11);
  });

  it('collects every problem of the contents before throwing once, each naming the wheel and the member', async () => {
    const members = withoutRecord().map((m) => {
      if (m.name === 'vllm/cli.py') return { ...m, data: 'tampered' };
      if (m.name.endsWith('/METADATA')) return { ...m, data: FIXTURE_METADATA.replace('Version: 0.9.0+cpu', 'Version: 0.8.0') };
      return m;
    });
    const record = recordFor(withoutRecord(), `${DI}/RECORD`).replace(/^vllm\/platforms\/__init__.py,sha256=[^,]*,/m, 'vllm/platforms/__init__.py,,') + 'vllm/gone.py,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0\n';
    const { path, problems } = await problemsOf([
      ...members.filter((m) => !m.name.endsWith('/WHEEL')),
      { name: 'vllm/unlisted.py', data: '' },
      { name: 'other-1.0.data/x', data: '' },
      { name: `${DI}/RECORD`, data: record },
    ]);
    expect(problems).toEqual([
      `In ${path}, other-1.0.data/ is not this wheel's data directory (vllm-0.9.0+cpu.data/)`,
      `In ${path}, ${DI}/METADATA has Version 0.8.0, but the file name says 0.9.0+cpu`,
      `In ${path}, ${DI}/WHEEL is missing`,
      `In ${path}, RECORD lists ${DI}/WHEEL, which is not in the archive`,
      `In ${path}, RECORD lists vllm/gone.py, which is not in the archive`,
      expect.stringMatching(new RegExp(`^In ${path.replace(/[.+]/g, '\\$&')}, hash / size of vllm/cli.py didn't match RECORD \\(RECORD: sha256=\\S+, 49; content: sha256=\\S+, 8\\)$`)),
      `In ${path}, hash of vllm/platforms/__init__.py is not included in RECORD`,
      expect.stringContaining(`In ${path}, hash / size of ${DI}/METADATA didn't match RECORD`),
      `In ${path}, vllm/unlisted.py is not mentioned in RECORD`,
      `In ${path}, other-1.0.data/x is not mentioned in RECORD`,
    ]);
  });

  it('reports a bad file name together with the contents', async () => {
    const { path, problems } = await problemsOf(fixtureMembers(), 'vllm-0.9.0.whl');
    expect(problems[0]).toBe(`In ${path}, vllm-0.9.0.whl is not a valid wheel file name: expected {distribution}-{version}(-{build})?-{python}-{abi}-{platform}.whl, got 2 dash-separated parts`);
  });

  it('requires exactly one .dist-info directory, matching the file name', async () => {
    const two = await problemsOf(withRecord([...withoutRecord(), { name: 'torch-2.0.dist-info/METADATA', data: 'Name: torch\n' }]));
    expect(two.problems).toEqual([`In ${two.path}, there are 2 .dist-info directories (${DI}, torch-2.0.dist-info); a wheel has exactly one`]);
    const other = await problemsOf(fixtureMembers(), 'vllm_cpu-0.9.0+cpu-py3-none-any.whl');
    expect(other.problems).toContain(`In ${other.path}, ${DI}/ does not match the file name's distribution vllm_cpu and version 0.9.0+cpu`);
  });

  it('reads RECORD with Python csv quoting and reports bad rows by line', async () => {
    const members = withoutRecord();
    const record = recordFor(members, `${DI}/RECORD`).replace(/sha256=/, 'md5=');
    const { path, problems } = await problemsOf([...members, { name: `${DI}/RECORD`, data: record }]);
    expect(problems).toEqual([`In ${path}, ${DI}/RECORD line 1: vllm/__init__.py: hash algorithm md5 is too weak; RECORD hashes must be sha256 or stronger`]);
  });

  it('accepts member names that need quoting in RECORD', async () => {
    const members = [...withoutRecord(), { name: 'vllm/data/a,b "c".txt', data: 'x' }];
    const path = await writeFixtureWheel(tempDir('validate'), [...members, { name: `${DI}/RECORD`, data: recordFor(members, `${DI}/RECORD`).replace('vllm/data/a,b "c".txt', '"vllm/data/a,b ""c"".txt"') }]);
    await expect(validateWheel(path)).resolves.toMatchObject({ distInfoDir: DI });
  });
});
