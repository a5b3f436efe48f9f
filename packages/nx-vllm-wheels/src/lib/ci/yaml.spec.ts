import { parse } from 'yaml';
import { commented, spaced, toYaml, type YamlValue } from './yaml';

// YAML 1.2 (GitHub's reader) and 1.1 (older readers: `on`, `yes`, `0x1F`, `1:20` mean other things there).
const readBoth = (text: string) => {
  const v12 = parse(text);
  expect(parse(text, { version: '1.1' })).toEqual(v12);
  return v12;
};

const AWKWARD = [
  '', ' lead', 'trail ', 'true', 'False', 'on', 'off', 'yes', 'No', 'y', 'null', '~', '3.11', '20', '-1', '+1', '.5', '1e3', '0x1F', '0o17', '1_000', '12:30', '.inf', '.NaN',
  'a: b', 'a:', '# not a comment', 'x #y', 'x#y', '- item', '-x', '? q', ': c', '[a]', '{a}', '*alias', '&anchor', '!tag', '|', '>', "'q'", '"q"', "it's", '%d', '@at', '`tick`',
  'tab\tinside', 'caf\u00e9', 'emoji \u{1F600}', 'back\\slash', '${{ github.ref }}', "${{ a == 'b' && secrets.X || secrets.Y }}", 'dist/wheels/${{ matrix.variant }}',
  'line one\nline two\n', 'no trailing newline\nsecond', 'two trailing\n\n', '  indented first\nsecond\n', 'blank\n\nlines\n', 'trailing spaces  \nhere\n', 'tab\tin block\n',
];

describe('toYaml', () => {
  it.each(AWKWARD.map((s) => [s]))('writes %j so that YAML reads the same string back, as a value, a list item and a key', (s) => {
    // `on` is the one key left plain on purpose (see the next test).
    const k = s === 'on' ? 'empty' : s || 'empty';
    expect(readBoth(toYaml({ value: s, list: [s], nested: { [k]: s } }))).toEqual({ value: s, list: [s], nested: { [k]: s } });
  });

  it('leaves the key `on` plain, as every workflow spells its triggers (YAML 1.2 and GitHub read it as "on")', () => {
    expect(toYaml({ on: { push: null } })).toBe('on:\n  push:\n');
    expect(parse(toYaml({ on: { push: null } }))).toEqual({ on: { push: null } });
  });

  it('quotes only what needs it, and writes scripts as literal blocks', () => {
    expect(toYaml({ a: 'plain text', b: '3.11', c: 'on', d: 'a: b', e: 'say "hi"', f: "it's", k: '-x', l: "'q'", g: 'run\nthis\n', h: 7, i: true, j: null })).toBe(
      ['a: plain text', "b: '3.11'", "c: 'on'", "d: 'a: b'", `e: say "hi"`, `f: it's`, "k: '-x'", `l: "'q'"`, 'g: |', '  run', '  this', 'h: 7', 'i: true', 'j:', ''].join('\n'),
    );
  });

  it('writes nested maps and lists in block style, empty ones as {} and [], in insertion order', () => {
    const doc = { z: { y: [1, { b: 'x', a: ['p', 'q'] }, []] }, a: {}, on: { push: null } };
    const text = toYaml(doc);
    expect(text).toBe(['z:', '  "y":', '    - 1', '    - b: x', '      a:', '        - p', '        - q', '    - []', 'a: {}', 'on:', '  push:', ''].join('\n'));
    expect(readBoth(text.replace(/^on:/m, '"on":'))).toEqual(doc);
  });

  it('writes comments above entries and list items, blank lines between spaced entries, and a header', () => {
    const doc: YamlValue = spaced({ first: 1, jobs: spaced({ a: { steps: [commented('why\nand how', { run: 'x' })] }, b: commented('b is\nspecial', 2) }) });
    const text = toYaml(doc as never, 'header line\n\nafter a blank');
    expect(text).toBe(
      ['# header line', '#', '# after a blank', 'first: 1', '', 'jobs:', '  a:', '    steps:', '      # why', '      # and how', '      - run: x', '', '  # b is', '  # special', '  b: 2', ''].join('\n'),
    );
    expect(readBoth(text)).toEqual({ first: 1, jobs: { a: { steps: [{ run: 'x' }] }, b: 2 } });
  });

  it('refuses numbers YAML cannot hold', () => {
    expect(() => toYaml({ n: Number.NaN })).toThrow('Cannot write NaN as YAML');
  });
});
