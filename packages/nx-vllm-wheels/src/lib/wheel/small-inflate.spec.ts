import { randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { SmallInflater } from './small-inflate';

/** What inflating gives, or what it throws (code and message): the two must agree exactly. */
function outcome(inflate: () => Buffer): { data: string } | { error: string } {
  try {
    return { data: inflate().toString('base64') };
  } catch (e) {
    return { error: `${(e as NodeJS.ErrnoException).code}: ${(e as Error).message}` };
  }
}

const text = Buffer.from('def f():\n    return 1\n'.repeat(40));
const raw = deflateRawSync(text);
const noise = randomBytes(3000);
/** [raw deflate, bound] as ZipReader passes them: the declared size + 1. */
const members: Record<string, [Buffer, number]> = {
  sound: [raw, text.length + 1],
  'stored blocks': [deflateRawSync(noise, { level: 0 }), noise.length + 1],
  empty: [deflateRawSync(Buffer.alloc(0)), 1],
  'more than declared': [raw, text.length - 10 + 1],
  'exactly the bound': [raw, text.length],
  'invalid block type': [Buffer.from([0xff, 0xff, 0x00, 0x01]), 100],
  truncated: [raw.subarray(0, raw.length - 4), text.length + 1],
  'bytes after the end of the stream': [Buffer.concat([raw, Buffer.from('trailing')]), text.length + 1],
};

describe('SmallInflater', () => {
  it('reuses one zlib stream on this Node (else every member pays for a new one)', () => {
    expect(new SmallInflater().reusesStream).toBe(true);
  });

  it("gives inflateRawSync's result or error for every member, in any order, after failures too", () => {
    const inflater = new SmallInflater();
    // Each case after every other one: a failure drops the stream, a success leaves it reset for the next.
    const names = Object.keys(members);
    for (const before of names) {
      for (const name of names) {
        for (const current of [before, name]) {
          const [data, bound] = members[current];
          expect({ current, ...outcome(() => inflater.inflate(data, bound)) }).toEqual({ current, ...outcome(() => inflateRawSync(data, { maxOutputLength: bound })) });
        }
      }
    }
    inflater.close();
  });
});
