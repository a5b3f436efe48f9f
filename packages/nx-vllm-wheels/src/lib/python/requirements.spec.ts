import { SourceError } from '../errors';
import { readBuildRequirements } from './requirements';
import { rejection } from '../../test-support/rejection';

/** A source tree as `git show` would read it: path -> text, undefined when the file is not there. */
function source(files: Record<string, string>): { read: (path: string) => Promise<string | undefined>; reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    read: async (path) => {
      reads.push(path);
      return files[path];
    },
  };
}


describe('readBuildRequirements', () => {
  it('drops the index options the source declares and reports them', async () => {
    const src = source({
      'requirements/cpu-build.txt': [
        '--extra-index-url https://download.pytorch.org/whl/cpu',
        '-i https://pypi.example.com/simple',
        '--index-url=https://other.example.com/simple',
        '-f https://example.com/wheels',
        '--find-links=./wheels',
        '--no-index',
        'cmake>=3.26.1',
        'torch==2.6.0+cpu',
        '--index-urls-are-not-this-option',
      ].join('\n'),
    });
    const result = await readBuildRequirements(['requirements/cpu-build.txt'], src.read);
    expect(result).toEqual({
      lines: ['cmake>=3.26.1', 'torch==2.6.0+cpu', '--index-urls-are-not-this-option'],
      droppedIndexOptions: [
        '--extra-index-url https://download.pytorch.org/whl/cpu',
        '-i https://pypi.example.com/simple',
        '--index-url=https://other.example.com/simple',
        '-f https://example.com/wheels',
        '--find-links=./wheels',
        '--no-index',
      ],
      torchPin: 'torch==2.6.0+cpu',
      files: ['requirements/cpu-build.txt'],
    });
  });

  it('drops constraint files instead of installing their pins as requirements', async () => {
    const src = source({ 'requirements/cpu-build.txt': '-c constraints.txt\n--constraint=other.txt\nninja\n', 'requirements/constraints.txt': 'numpy<2\n' });
    const r = await readBuildRequirements(['requirements/cpu-build.txt'], src.read);
    expect(r.lines).toEqual(['ninja']);
    expect(r.droppedIndexOptions).toEqual(['-c constraints.txt', '--constraint=other.txt']);
    expect(src.reads).toEqual(['requirements/cpu-build.txt']);
  });

  it('follows -r includes relative to the including file, in place, each file once', async () => {
    const src = source({
      'requirements/build/cpu.txt': ['-r ../common.txt', 'torch==2.10.0+cpu', '--requirement=./extra.txt', '-r ../build/cpu.txt'].join('\n'),
      'requirements/common.txt': ['ninja', '-r nested/more.txt'].join('\n'),
      'requirements/nested/more.txt': ['packaging>=24.2', '-r ../common.txt'].join('\n'),
      'requirements/build/extra.txt': 'wheel\n',
    });
    const result = await readBuildRequirements(['requirements/build/cpu.txt'], src.read);
    expect(result.lines).toEqual(['ninja', 'packaging>=24.2', 'torch==2.10.0+cpu', 'wheel']);
    expect(result.files).toEqual(['requirements/build/cpu.txt', 'requirements/common.txt', 'requirements/nested/more.txt', 'requirements/build/extra.txt']);
  });

  it('names the including file when an include does not exist', async () => {
    const src = source({ 'requirements/cpu-build.txt': 'torch==2.6.0+cpu\n-r common.txt\n' });
    const error = await rejection(readBuildRequirements(['requirements/cpu-build.txt'], src.read));
    expect(error).toBeInstanceOf(SourceError);
    expect((error as Error).message).toBe('requirements/cpu-build.txt includes common.txt, which does not exist in the source.');
    expect(src.reads).toEqual(['requirements/cpu-build.txt', 'requirements/common.txt']);
  });

  it('removes comments (not a # inside a URL) and joins continued lines', async () => {
    const src = source({
      'requirements/cpu-build.txt': [
        '# Build requirements',
        '   # indented comment',
        '',
        'cmake>=3.26.1  # for the kernels',
        'setuptools>=77.0.3,\\',
        '  <80.0.0',
        'torch==2.6.0+cpu \\',
        '    ; platform_machine == "x86_64"',
        'pkg @ https://example.com/pkg-1.0-py3-none-any.whl#sha256=abc',
        '',
      ].join('\r\n'),
    });
    const result = await readBuildRequirements(['requirements/cpu-build.txt'], src.read);
    expect(result.lines).toEqual([
      'cmake>=3.26.1',
      'setuptools>=77.0.3,   <80.0.0',
      'torch==2.6.0+cpu      ; platform_machine == "x86_64"',
      'pkg @ https://example.com/pkg-1.0-py3-none-any.whl#sha256=abc',
    ]);
    expect(result.torchPin).toBe('torch==2.6.0+cpu      ; platform_machine == "x86_64"');
  });

  it("finds the torch pin with an environment marker (vLLM 0.16's cpu-build.txt), not torchvision's", async () => {
    const src = source({
      'requirements/cpu-build.txt': [
        'cmake>=3.26.1',
        'ninja',
        'torchvision==0.25.0+cpu',
        'torch==2.10.0+cpu; platform_machine == "x86_64" or platform_machine == "s390x"',
        'torch==2.10.0; platform_system == "Darwin" or platform_machine == "ppc64le" or platform_machine == "aarch64"',
        'wheel',
      ].join('\n'),
    });
    const result = await readBuildRequirements(['requirements/cpu-build.txt'], src.read);
    expect(result.torchPin).toBe('torch==2.10.0+cpu; platform_machine == "x86_64" or platform_machine == "s390x"');
    expect(result.lines).toHaveLength(6);
  });

  it.each([
    ['torch>=2.5', 'torch>=2.5'],
    ['torch', 'torch'],
    ['torch [opt-einsum] == 2.6.0', 'torch [opt-einsum] == 2.6.0'],
    ['torchaudio==2.6.0', undefined],
  ])('torch pin of %j is %j', async (line, pin) => {
    const result = await readBuildRequirements(['r.txt'], source({ 'r.txt': `${line}\n` }).read);
    expect(result.torchPin).toBe(pin);
  });

  it('reads the first candidate that exists, and only that one', async () => {
    const src = source({
      'requirements/build/cpu.txt': 'torch==2.13.0+cpu\n',
      'requirements/cpu-build.txt': 'torch==2.6.0+cpu\n',
    });
    const result = await readBuildRequirements(['requirements/build/cpu.txt', 'requirements/cpu-build.txt'], src.read);
    expect(result.torchPin).toBe('torch==2.13.0+cpu');
    expect(result.files).toEqual(['requirements/build/cpu.txt']);
    expect(src.reads).toEqual(['requirements/build/cpu.txt']);

    const older = source({ 'requirements/cpu-build.txt': 'torch==2.6.0+cpu\n' });
    expect((await readBuildRequirements(['requirements/build/cpu.txt', 'requirements/cpu-build.txt'], older.read)).torchPin).toBe('torch==2.6.0+cpu');
  });

  it('throws a SourceError naming every candidate when none exists', async () => {
    const error = await rejection(readBuildRequirements(['requirements/build/cpu.txt', 'requirements/cpu-build.txt'], source({}).read));
    expect(error).toBeInstanceOf(SourceError);
    expect((error as Error).message).toBe(
      'None of the build requirements files exist in the source: requirements/build/cpu.txt, requirements/cpu-build.txt (torch.json "requirements").',
    );
  });
});
