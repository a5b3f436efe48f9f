import { WheelError } from '../errors';
import { compareVersions } from './version-order';

describe('compareVersions (PEP 440 order)', () => {
  // In order, as pypa/packaging sorts them (PEP 440's own examples plus epochs, local labels and zeros).
  const ORDERED = [
    '0.30.1.dev202609221108',
    '0.30.1.dev202609231158',
    '1.0.dev456',
    '1.0a1',
    '1.0a2.dev456',
    '1.0a12.dev456',
    '1.0a12',
    '1.0b1.dev456',
    '1.0b2',
    '1.0b2.post345.dev456',
    '1.0b2.post345',
    '1.0rc1.dev456',
    '1.0rc1',
    '1.0',
    '1.0+abc.5',
    '1.0+abc.7',
    '1.0+5',
    '1.0.post456.dev34',
    '1.0.post456',
    '1.0.15',
    '1.1.dev1',
    '1!0.1',
  ];

  it('sorts versions as pip does', () => {
    expect([...ORDERED].reverse().sort(compareVersions)).toEqual(ORDERED);
    for (let i = 1; i < ORDERED.length; i++) {
      expect([ORDERED[i - 1], ORDERED[i], compareVersions(ORDERED[i - 1], ORDERED[i]), compareVersions(ORDERED[i], ORDERED[i - 1])]).toEqual([ORDERED[i - 1], ORDERED[i], -1, 1]);
    }
    expect(compareVersions('1!0.1', '2.0')).toBe(1);
  });

  it('treats trailing zeros as equal, like packaging', () => {
    expect(compareVersions('1.0', '1.0.0')).toBe(0);
    expect(compareVersions('1', '1.0.0.dev1')).toBe(1);
  });

  it('refuses a version that is not normalized', () => {
    expect(() => compareVersions('1.0-dev', '1.0')).toThrow(WheelError);
    expect(() => compareVersions('1.0', 'v1')).toThrow('Cannot order versions: "v1" is not a normalized PEP 440 version');
  });
});
