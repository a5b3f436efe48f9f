import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { escapeName } from '../lib/wheel';
import { type Member, recordFor, writeZipWithPython } from '../lib/wheel/test-support/python';

export interface TestWheelOptions {
  /** The content of `vllm/__init__.py`. */
  body?: string;
  /** METADATA's Requires-Python; absent when not given. */
  requiresPython?: string;
  /** The whole METADATA, instead of the one made from name, version and requiresPython. */
  metadata?: string;
  /** Bytes of stored random data (`vllm/_blob.bin`) to make the wheel bigger. */
  padding?: number;
}

/** A METADATA for a test wheel: name, version, a summary, Requires-Python when given, a README body. */
export function testMetadata(name: string, version: string, requiresPython?: string): string {
  return [`Metadata-Version: 2.1`, `Name: ${name}`, `Version: ${version}`, `Summary: ${name} for tests`, ...(requiresPython ? [`Requires-Python: ${requiresPython}`] : []), '', `# ${name}`, ''].join('\n');
}

/** A small valid pure wheel of distribution `name` (py3-none-any, RECORD complete) in `dir`; returns its path. */
export async function writeTestWheel(dir: string, name: string, version: string, options: TestWheelOptions = {}): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const di = `${escapeName(name)}-${version}.dist-info`;
  const members: Member[] = [
    { name: 'vllm/__init__.py', data: options.body ?? `__version__ = "${version}"\n` },
    ...(options.padding ? [{ name: 'vllm/_blob.bin', data: randomBytes(options.padding), deflate: false }] : []),
    { name: `${di}/METADATA`, data: options.metadata ?? testMetadata(name, version, options.requiresPython) },
    { name: `${di}/WHEEL`, data: 'Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n\n' },
  ];
  const path = join(dir, `${escapeName(name)}-${version}-py3-none-any.whl`);
  await writeZipWithPython(path, [...members, { name: `${di}/RECORD`, data: recordFor(members, `${di}/RECORD`) }]);
  return path;
}
