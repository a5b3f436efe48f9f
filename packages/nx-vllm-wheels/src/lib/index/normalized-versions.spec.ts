/**
 * Stripping `+git…` makes two builds of one release share file names: the index must refuse the second
 * build's bytes under a name it published (as it refuses any changed file), and accept a rerun of the first.
 */
import { createRocmBaseWheels } from '../../../../../tools/fixtures/index.js';
import { tempDir } from '../../test-support/temp';
import { stripLocalVersions } from '../wheel';
import { createHash } from 'node:crypto';
import { buildIndex, mergeState, parseIndexState, type IndexedFile } from './index';

it('refuses a second build of the same normalized versions, accepts the same build again', async () => {
  const normalized = async (build: 'a' | 'b') => {
    const { wheels } = createRocmBaseWheels(tempDir(`rocm-base-${build}`), { build });
    const out = tempDir(`rocm-normalized-${build}`);
    return (await stripLocalVersions({ wheels: [wheels.torch, wheels.triton, wheels.torchvision, wheels.amdsmi], outputDir: out })).map((w) => w.path);
  };
  const a = await normalized('a');
  const published = await buildIndex({ wheels: a, outDir: tempDir('index-a') });
  expect(published.files.map((f) => f.filename)).toContain('torch-2.9.0-py3-none-linux_x86_64.whl');

  // The same build normalized again: the same bytes, nothing changes.
  await expect(buildIndex({ wheels: await normalized('a'), outDir: tempDir('index-a2'), existing: published })).resolves.toEqual(published);

  const error = await buildIndex({ wheels: await normalized('b'), outDir: tempDir('index-b'), existing: published }).catch((e: Error) => e);
  expect(error).toBeInstanceOf(Error);
  expect((error as Error).message).toContain('Refusing to change published files');
  for (const name of ['torch-2.9.0', 'triton-3.5.0', 'torchvision-0.24.0', 'amdsmi-26.1.0']) expect((error as Error).message).toContain(`${name}-py3-none-linux_x86_64.whl is already published with sha256`);
});

describe('a second build under other tags', () => {
  const file = (filename: string, localVersion?: string): IndexedFile => ({
    project: 'torch',
    filename,
    sha256: createHash('sha256').update(filename + (localVersion ?? '')).digest('hex'),
    size: 1,
    url: `files/torch/${filename}`,
    ...(localVersion !== undefined && { localVersion }),
  });
  const published = mergeState(undefined, [file('torch-2.9.0-cp312-cp312-linux_x86_64.whl', '2.9.0+gitaaaa')]);

  it('is refused: one published version is one build, whatever the file name', () => {
    expect(() => mergeState(published, [file('torch-2.9.0-cp311-cp311-linux_x86_64.whl', '2.9.0+gitbbbb')])).toThrow(
      'Refusing a second build of a published version (one version is one build, whatever its tags):\n  torch 2.9.0: torch-2.9.0-cp311-cp311-linux_x86_64.whl was built as 2.9.0+gitbbbb, torch-2.9.0-cp312-cp312-linux_x86_64.whl as 2.9.0+gitaaaa',
    );
  });

  it('is accepted from the same build (more tags of it), for another version, or when a file records no build', () => {
    expect(mergeState(published, [file('torch-2.9.0-cp311-cp311-linux_x86_64.whl', '2.9.0+gitaaaa')]).files).toHaveLength(2);
    expect(mergeState(published, [file('torch-2.9.1-cp311-cp311-linux_x86_64.whl', '2.9.1+gitbbbb')]).files).toHaveLength(2);
    expect(mergeState(published, [file('torch-2.9.0-cp311-cp311-linux_x86_64.whl')]).files).toHaveLength(2);
  });

  it('survives index-state.json: the local version is read back', () => {
    const text = JSON.parse(JSON.stringify(published));
    expect(parseIndexState(text, 'index-state.json').files[0].localVersion).toBe('2.9.0+gitaaaa');
    expect(() => mergeState(parseIndexState(text, 'index-state.json'), [file('torch-2.9.0-cp311-cp311-linux_x86_64.whl', '2.9.0+gitbbbb')])).toThrow('Refusing a second build');
  });
});
