import { parseRequirement, publicVersion, rewriteLocalPins } from './requires-dist';

const SET = new Map([
  ['torch', { from: '2.9.0+git1c57644d', to: '2.9.0' }],
  ['triton', { from: '3.5.0+gitb0e26b6e', to: '3.5.0' }],
]);

describe('parseRequirement', () => {
  it('finds each specifier and where its version is, in every form', () => {
    const text = 'torch [cuda] (>=2.8, ==2.9.0+git1c57644d) ; python_version >= "3.9"';
    const parsed = parseRequirement(text)!;
    expect(parsed.name).toBe('torch');
    expect(parsed.specifiers.map((s) => [s.operator, s.version, text.slice(s.start, s.end)])).toEqual([
      ['>=', '2.8', '2.8'],
      ['==', '2.9.0+git1c57644d', '2.9.0+git1c57644d'],
    ]);
    expect(parseRequirement('pillow!=8.3.*,>=5.3.0; extra == "image"')!.specifiers.map((s) => `${s.operator}${s.version}`)).toEqual(['!=8.3.*', '>=5.3.0']);
    expect(parseRequirement('numpy')).toEqual({ name: 'numpy', url: false, specifiers: [] });
    expect(parseRequirement('triton @ https://example.com/triton-3.5.0+git1.whl')).toEqual({ name: 'triton', url: true, specifiers: [] });
    expect(parseRequirement('torch ==')).toBeUndefined();
  });

  it('publicVersion drops the local label only', () => {
    expect(publicVersion('2.9.0+git1c57644d')).toBe('2.9.0');
    expect(publicVersion('26.1.0+5f0a6e2')).toBe('26.1.0');
    expect(publicVersion('1.0.post1')).toBe('1.0.post1');
  });
});

describe('rewriteLocalPins', () => {
  it("rewrites a pin of a set member's local version, every other character kept", () => {
    expect(rewriteLocalPins('torch (==2.9.0+git1c57644d)', SET)).toEqual({ text: 'torch (==2.9.0)', problems: [] });
    expect(rewriteLocalPins('triton==3.5.0+gitb0e26b6e; platform_system == "Linux" and platform_machine == "x86_64"', SET)).toEqual({
      text: 'triton==3.5.0; platform_system == "Linux" and platform_machine == "x86_64"',
      problems: [],
    });
    expect(rewriteLocalPins('Torch[opt] === 2.9.0+GIT1C57644D , <3', SET).text).toBe('Torch[opt] === 2.9.0 , <3');
  });

  it('leaves requirements without a local pin alone', () => {
    for (const text of ['torch>=2.8', 'pillow!=8.3.*,>=5.3.0; extra == "image"', 'numpy', 'x @ file:///a+b.whl']) {
      expect(rewriteLocalPins(text, SET)).toEqual({ text, problems: [] });
    }
  });

  it('refuses a local pin the normalized set could not satisfy', () => {
    expect(rewriteLocalPins('torch==2.9.0+gitdeadbee', SET).problems).toEqual(['"torch==2.9.0+gitdeadbee" pins torch 2.9.0+gitdeadbee, but the set\'s torch is 2.9.0+git1c57644d']);
    expect(rewriteLocalPins('torchaudio==2.9.0+git1', SET).problems).toEqual(['"torchaudio==2.9.0+git1" pins the local version 2.9.0+git1 of torchaudio, which is not in the set being normalized']);
    expect(rewriteLocalPins('torch!=2.9.0+git1c57644d', SET).problems).toEqual(['"torch!=2.9.0+git1c57644d": a local version can only be pinned with == (got !=2.9.0+git1c57644d)']);
    expect(rewriteLocalPins('torch==2.9.0+git1c57644d', SET).problems).toEqual([]);
  });
});
