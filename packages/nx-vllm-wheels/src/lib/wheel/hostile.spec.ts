import { readFileSync, writeFileSync } from 'node:fs';
import { tempDir } from '../../test-support/temp';
import { WheelValidationError } from './problems';
import { fixtureMembers, type Member, recordFor, writeFixtureWheel } from './test-support/python';
import { validateWheel } from './validate';
import type { InflateLimits } from './zip-format';

/** Hostile wheels (the fixture wheel with one member added) are refused by our own checks, naming the wheel and the member. */
const DI = 'vllm-0.9.0+cpu.dist-info';

function withMember(member: Member): Member[] {
  const members = fixtureMembers().filter((m) => !m.name.endsWith('/RECORD'));
  const all = [...members.slice(0, 2), member, ...members.slice(2)];
  return [...all, { name: `${DI}/RECORD`, data: recordFor(all, `${DI}/RECORD`) }];
}

async function problemsOf(path: string, limits?: InflateLimits): Promise<readonly string[]> {
  const error = await validateWheel(path, { ...(limits && { limits }) }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WheelValidationError);
  return (error as WheelValidationError).problems;
}

describe('hostile wheels', () => {
  it.each([
    ['vllm/evil\x1b[2J.py', 'contains the control character U+001B'],
    ['vllm/new\nline.py', 'contains the control character U+000A'],
    ['vllm/del\x7f.py', 'contains the control character U+007F'],
    ['vllm/csi\u009b.py', 'contains the control character U+009B'],
    ['/etc/ld.so.preload', 'is an absolute path'],
    ['vllm/../../outside.py', "has a '..' component (escapes the archive root)"],
    ['vllm\\windows.py', 'contains a backslash'],
    ['vllm/nul\0.py', 'contains a NUL character'],
  ])('refuses the member name %j', async (name, why) => {
    // Python's zipfile cuts a name at NUL: that one is written with a stand-in byte, patched afterwards.
    const path = await writeFixtureWheel(tempDir('hostile'), withMember({ name: name.replace('\0', '#'), data: 'x = 1\n' }));
    if (name.includes('\0')) writeFileSync(path, Buffer.from(readFileSync(path, 'latin1').replaceAll(name.replace('\0', '#'), name), 'latin1'));
    expect(await problemsOf(path)).toContain(`In ${path}, member ${JSON.stringify(name)} ${why}; refusing to read it (zip-slip)`);
  });

  it('refuses a symbolic link member', async () => {
    const path = await writeFixtureWheel(tempDir('hostile'), withMember({ name: 'vllm/link.so', data: '/etc/passwd', mode: 0o120777 }));
    expect(await problemsOf(path)).toEqual([`In ${path}, member "vllm/link.so" is a symbolic link; refusing to read it`]);
  });

  it('refuses a member whose declared size is a zip bomb, before inflating it', async () => {
    // 4 MiB of zeros deflate to ~4 KB (1000:1); declaring 2 GiB instead makes the 2 MB-wheel-declaring-2-GiB case.
    const path = await writeFixtureWheel(tempDir('hostile'), withMember({ name: 'vllm/zeros.bin', data: Buffer.alloc(4 * 1024 * 1024) }));
    const [ratio] = await problemsOf(path);
    expect(ratio).toMatch(new RegExp(`^In ${escape(path)}, vllm/zeros.bin declares 4194304 bytes inflated from \\d+ compressed, a ratio of \\d+:1, over the limit of 200:1 \\(a zip bomb\\?\\)$`));

    const bytes = readFileSync(path);
    bytes.writeUInt32LE(0xf0000000, centralHeader(bytes, 'vllm/zeros.bin') + 24); // declared: 3.75 GiB
    writeFileSync(path, bytes);
    expect(await problemsOf(path, { maxTotalBytes: 2 * 1024 ** 3, maxRatio: 1e9, raiseWith: 'wheel.json "inflateLimits"' })).toEqual([
      expect.stringMatching(
        new RegExp(`^In ${escape(path)}, its members declare 40\\d{8} bytes inflated in all, over the limit of 2147483648 bytes \\(2 GiB; a zip bomb\\?\\); if the archive is genuine, raise it with wheel.json "inflateLimits"$`),
      ),
    ]);
  });

  it('stops a member that inflates past its declared size (declared sizes can lie)', async () => {
    const path = await writeFixtureWheel(tempDir('hostile'), withMember({ name: 'vllm/zeros.bin', data: Buffer.alloc(600 * 1024) }));
    const bytes = readFileSync(path);
    bytes.writeUInt32LE(1000, centralHeader(bytes, 'vllm/zeros.bin') + 24); // declared: 1000 bytes
    writeFileSync(path, bytes);
    expect(await problemsOf(path)).toContain(`In ${path}, vllm/zeros.bin inflates to more than its declared size of 1000 bytes.`);
  });
});

/** Where the member's central directory header starts (its name's last occurrence: the directory is last). */
function centralHeader(bytes: Buffer, name: string): number {
  const at = bytes.lastIndexOf(name) - 46;
  expect(bytes.readUInt32LE(at)).toBe(0x02014b50);
  return at;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
