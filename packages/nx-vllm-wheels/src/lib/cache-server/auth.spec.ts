import { bearerToken, createAuthenticator } from './auth';
import { formatByteSize, parseByteSize, parseDuration } from './size';

describe('bearer tokens', () => {
  const auth = createAuthenticator({ readWrite: ['rw-aaaaaaaaaaaaaaaa', 'rw-bbbbbbbbbbbbbbbb'], readOnly: ['ro-cccccccccccccccc'] });

  it('gives each token its scope, and nothing to anything else', () => {
    expect(auth.authenticate('Bearer rw-bbbbbbbbbbbbbbbb')).toBe('read-write');
    expect(auth.authenticate('bearer ro-cccccccccccccccc')).toBe('read-only');
    expect(auth.authenticate('Bearer ro-ccccccccccccccc')).toBeUndefined();
    expect(auth.authenticate('Bearer ro-cccccccccccccccc ')).toBe('read-only');
    expect(auth.authenticate('Bearer')).toBeUndefined();
    expect(auth.authenticate('Basic cm8tY2NjY2NjY2NjY2NjY2NjYw==')).toBeUndefined();
    expect(auth.authenticate('ro-cccccccccccccccc')).toBeUndefined();
    expect(auth.authenticate(undefined)).toBeUndefined();
    expect(auth.counts).toEqual({ readWrite: 2, readOnly: 1 });
  });

  it('reads the token of an Authorization header', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('BEARER\tabc')).toBe('abc');
    expect(bearerToken('Bearer a b')).toBeUndefined();
    expect(bearerToken('')).toBeUndefined();
  });
});

describe('sizes and durations', () => {
  it('parses sizes with binary and decimal units', () => {
    expect(parseByteSize('2GiB')).toBe(2 * 2 ** 30);
    expect(parseByteSize('500MB')).toBe(500e6);
    expect(parseByteSize('1.5 KiB')).toBe(1536);
    expect(parseByteSize('1048576')).toBe(1048576);
    expect(() => parseByteSize('2 gigs')).toThrow(/Invalid size "2 gigs": write a number of bytes or a number with a unit/);
    expect(() => parseByteSize('0')).toThrow(/more than 0/);
    expect(formatByteSize(2 * 2 ** 30)).toBe('2 GiB');
    expect(formatByteSize(1500)).toBe('1.46 KiB');
  });

  it('parses durations (plain numbers are seconds)', () => {
    expect(parseDuration('60')).toBe(60_000);
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(() => parseDuration('soon')).toThrow(/Invalid duration "soon"/);
  });
});
