import { WheelError } from '../errors';
import { isCanonicalVersion } from '../wheel/names';
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
