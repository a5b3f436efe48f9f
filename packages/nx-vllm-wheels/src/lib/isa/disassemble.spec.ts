import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../test-support/temp';
import { CommandError, ToolError } from '../errors';
import { levelRank, type IsaExtension } from './classify';
import { X86_EXTENSIONS as ISA_EXTENSIONS } from './model';
import { disassemble } from './disassemble';
import { compileLevelLibraries, LEVELS, LIBRARIES, TOOL_ENV, type Level } from './test-support/libs';
import { rejection } from '../../test-support/rejection';


let libs: Record<Level, string>;
let dir: string;

beforeAll(async () => {
  dir = tempDir('isa-dis');
  libs = await compileLevelLibraries(dir);
}, 120_000);

describe('disassemble', () => {
  it.each(LEVELS)('finds exactly the %s library’s own level as its highest, in its own function', async (level) => {
    const d = await disassemble(libs[level], { env: TOOL_ENV, cwd: dir, timeoutMs: 60_000 });
    expect(d.format).toBe('elf64-x86-64');
    expect(d.instructions).toBeGreaterThan(10);
    const used = ISA_EXTENSIONS.filter((e) => (d.counts[e] ?? 0) > 0);
    const highest = used.reduce<IsaExtension | undefined>((best, e) => (best === undefined || levelRank(e) > levelRank(best) ? e : best), undefined);
    expect(highest).toBe(level === 'baseline' ? undefined : level);
    if (level !== 'baseline') {
      expect(d.counts[level]).toBeGreaterThan(0);
      // Every instruction of the library's level sits in the function that uses the intrinsics.
      expect(d.examples[level]!.map((e) => e.symbol)).toEqual(d.examples[level]!.map(() => LIBRARIES[level].symbol));
    }
    for (const e of ISA_EXTENSIONS) expect(d.examples[e]).toHaveLength(Math.min(d.counts[e]!, 5));
  });

  it('keeps the first examples in address order, with the address and the instruction as printed', async () => {
    const d = await disassemble(libs.avx512, { env: TOOL_ENV, cwd: dir, timeoutMs: 60_000, maxExamples: 2 });
    expect(d.examples.avx512).toHaveLength(2);
    for (const e of d.examples.avx512!) {
      expect(e.symbol).toBe('vec_add_avx512');
      expect(e.address).toMatch(/^0x[0-9a-f]+$/);
      expect(e.instruction).toMatch(/^v\S+ .*%zmm/);
    }
    expect(parseInt(d.examples.avx512![0].address, 16)).toBeLessThan(parseInt(d.examples.avx512![1].address, 16));
  });

  it('needs objdump: without it on PATH, a ToolError that says to install binutils', async () => {
    const error = await rejection(disassemble(libs.avx2, { env: { PATH: tempDir('isa-empty-path') }, cwd: dir, timeoutMs: 10_000 }));
    expect(error).toBeInstanceOf(ToolError);
    expect((error as Error).message).toMatch(/objdump not found .*Install binutils/);
  });

  it('reports objdump’s own failure (not an object file) as a CommandError with its message', async () => {
    const file = join(dir, 'not-elf.so');
    writeFileSync(file, 'INPUT(-lc)\n');
    const error = await rejection(disassemble(file, { env: TOOL_ENV, cwd: dir, timeoutMs: 10_000 }));
    expect(error).toBeInstanceOf(CommandError);
    expect((error as Error).message).toMatch(/exited with code 1 .*objdump -d --no-show-raw-insn -M att .*not-elf\.so\n.*file format not recognized/s);
  });

  it('kills objdump on timeout and when cancelled', async () => {
    const slow = join(dir, 'slow');
    writeFileSync(slow, '#!/bin/sh\nexec sleep 30\n', { mode: 0o755 });
    const started = Date.now();
    const timedOut = await rejection(disassemble(libs.avx2, { env: TOOL_ENV, cwd: dir, timeoutMs: 200, objdump: slow }));
    expect(timedOut).toBeInstanceOf(CommandError);
    expect((timedOut as Error).message).toMatch(/^Command timed out after 0 s/);
    const cancelled = await rejection(disassemble(libs.avx2, { env: TOOL_ENV, cwd: dir, timeoutMs: 60_000, objdump: slow, signal: AbortSignal.timeout(200) }));
    expect((cancelled as Error).message).toMatch(/^Command was cancelled/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
