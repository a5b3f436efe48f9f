import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { escapeName } from '../../wheel';
import { type Member, recordFor, writeZipWithPython } from '../../wheel/test-support/python';

/** A small valid pure wheel of `name` (RECORD complete); `padding` bytes of stored random data make it bigger. Returns its path. */
export async function writeTestWheel(dir: string, name: string, version: string, options: { body?: string; padding?: number } = {}): Promise<string> {
  const di = `${escapeName(name)}-${version}.dist-info`;
  const members: Member[] = [
    { name: 'vllm/__init__.py', data: options.body ?? `__version__ = "${version}"\n` },
    ...(options.padding ? [{ name: 'vllm/_blob.bin', data: randomBytes(options.padding), deflate: false }] : []),
    { name: `${di}/METADATA`, data: `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\nRequires-Python: >=3.8\n\n# ${name}\n` },
    { name: `${di}/WHEEL`, data: 'Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n\n' },
  ];
  const path = join(dir, `${escapeName(name)}-${version}-py3-none-any.whl`);
  await writeZipWithPython(path, [...members, { name: `${di}/RECORD`, data: recordFor(members, `${di}/RECORD`) }]);
  return path;
}
