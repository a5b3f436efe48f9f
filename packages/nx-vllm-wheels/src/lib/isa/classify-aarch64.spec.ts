import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../test-support/temp';
import { run } from '../process';
import { exceeds } from './classify';
import { classifyAarch64 } from './classify-aarch64';
import * as M from './mnemonics-aarch64';
import { AARCH64_EXTENSIONS, AARCH64_LEVELS, ALLOWED_EXTENSIONS, DEFINING_EXTENSION, levelOf, type IsaExtension } from './model';
import { CROSS, withCrossToolchain } from './test-support/aarch64';
import { TOOL_ENV } from './test-support/libs';

describe('classifyAarch64', () => {
  it.each([
    ['add\tx0, x1, x2', undefined],
    ['ldr\tq0, [x0, #16]', undefined],
    ['fadd\ts0, s1, s2', undefined],
    ['fcvt\th0, s1', undefined], // Armv8.0 conversion
    ['fcvtl\tv0.4s, v1.4h', 'asimd'],
    ['bl\t1234 <fmla_z0_p0+0x10>', undefined], // a symbol is not an operand
    ['ldaddal\tw0, w1, [x2]', undefined], // LSE: not counted
    ['add\tv0.4s, v1.4s, v2.4s', 'asimd'],
    ['fadd\tv0.8h, v1.8h, v2.8h', 'fp16'],
    ['fmul\th0, h1, v2.h[3]', 'fp16'],
    ['scvtf\th0, w1', 'fp16'],
    ['sdot\tv0.4s, v1.16b, v2.16b', 'dotprod'],
    ['udot\tv0.2s, v1.8b, v2.4b[1]', 'dotprod'],
    ['fmlal\tv0.4s, v1.4h, v2.4h', 'fhm'],
    ['bfdot\tv0.4s, v1.8h, v2.8h', 'bf16'],
    ['bfcvt\th0, s1', 'bf16'],
    ['bfmmla\tv0.4s, v1.8h, v2.8h', 'bf16'],
    ['smmla\tv0.4s, v1.16b, v2.16b', 'i8mm'],
    ['usdot\tv0.4s, v1.16b, v2.4b[3]', 'i8mm'],
    ['fmla\tz8.h, p4/m, z6.h, z0.h', 'sve'],
    ['ld1w\t{z0.s}, p0/z, [x0, x1, lsl #2]', 'sve'],
    ['ptrue\tp0.b', 'sve'],
    ['rdvl\tx0, #1', 'sve'],
    ['cntw\tx1', 'sve'],
    ['sdot\tz0.s, z1.b, z2.b', 'sve'],
    ['bfmmla\tz0.s, z1.h, z2.h', 'sve'], // SVE + BF16: the sve level has both
    ['mul\tz0.s, p0/m, z0.s, z1.s', 'sve'],
    ['mul\tz0.s, z0.s, #3', 'sve'],
    ['mul\tz0.s, z1.s, z2.s', 'sve2'],
    ['sqadd\tz0.b, z1.b, z2.b', 'sve'],
    ['sqadd\tz0.b, p0/m, z0.b, z1.b', 'sve2'],
    ['tbl\tz0.b, {z1.b}, z2.b', 'sve'],
    ['tbl\tz0.b, {z1.b, z2.b}, z3.b', 'sve2'],
    ['ldnt1w\t{z0.s}, p0/z, [x0, x1, lsl #2]', 'sve'],
    ['ldnt1w\t{z0.s}, p0/z, [z1.s, x0]', 'sve2'],
    ['shadd\tz0.s, p0/m, z0.s, z1.s', 'sve2'],
    ['whilege\tp0.s, x0, x1', 'sve2'],
    ['shadd\tv0.4s, v1.4s, v2.4s', 'asimd'], // the Advanced SIMD instruction of the same name
    ['fmmla\tz0.d, z1.d, z2.d', 'sveother'],
    ['zip1\tz0.q, z1.q, z2.q', 'sveother'],
    ['zip1\tz0.s, z1.s, z2.s', 'sve'],
    ['bdep\tz0.s, z1.s, z2.s', 'sveother'],
    ['aese\tv0.16b, v1.16b', 'asimd'], // Advanced SIMD AES: not counted
    ['aese\tz0.b, z0.b, z1.b', 'sveother'],
    ['fmopa\tza0.s, p0/m, p1/m, z0.s, z1.s', 'sme'],
    ['smstart', 'sme'],
    ['zero\t{za}', 'sme'],
  ] as [string, IsaExtension | undefined][])('%s -> %s', (instruction, expected) => {
    expect(classifyAarch64(instruction)).toBe(expected);
  });

  it('orders the levels armv8 < dotprod (+FP16) < bf16 (+FHM) < i8mm < sve < sve2; optional SVE parts and SME are allowed nowhere', () => {
    expect(AARCH64_LEVELS.map((l) => [l, [...ALLOWED_EXTENSIONS[l]]])).toEqual([
      ['armv8', ['asimd']],
      ['dotprod', ['asimd', 'dotprod', 'fp16']],
      ['bf16', ['asimd', 'dotprod', 'fp16', 'bf16', 'fhm']],
      ['i8mm', ['asimd', 'dotprod', 'fp16', 'bf16', 'fhm', 'i8mm']],
      ['sve', ['asimd', 'dotprod', 'fp16', 'bf16', 'fhm', 'i8mm', 'sve']],
      ['sve2', ['asimd', 'dotprod', 'fp16', 'bf16', 'fhm', 'i8mm', 'sve', 'sve2']],
    ]);
    expect(AARCH64_EXTENSIONS.filter((e) => levelOf(e) === null)).toEqual(['sveother', 'sme']);
    for (const level of AARCH64_LEVELS) expect(ALLOWED_EXTENSIONS[level].has(DEFINING_EXTENSION[level])).toBe(true);
    expect(exceeds('bf16', 'dotprod')).toBe(true);
    expect(exceeds('fp16', 'armv8')).toBe(true);
    expect(exceeds('sve', 'i8mm')).toBe(true);
    expect(exceeds('i8mm', 'sve')).toBe(false);
    // Levels of one architecture never allow another's extensions.
    expect(exceeds('avx2', 'sve2')).toBe(true);
    expect(exceeds('asimd', 'amxfp8')).toBe(true);
  });
});

/** A small deterministic PRNG (xorshift32): the same sample on every machine. */
function* words(seed: number, count: number, fixedMask: number, fixedBits: number): Generator<number> {
  let x = seed >>> 0;
  for (let i = 0; i < count; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    yield ((x & ~fixedMask) | fixedBits) >>> 0;
  }
}

/** objdump's text of every decodable word of a sample, one per distinct operand shape (registers and immediates abstracted). */
async function sampleInstructions(dir: string, name: string, sample: Iterable<number>): Promise<string[]> {
  const values = [...sample];
  const blob = Buffer.alloc(values.length * 4);
  values.forEach((w, i) => blob.writeUInt32LE(w, i * 4));
  writeFileSync(join(dir, `${name}.bin`), blob);
  const { stdout } = await run(CROSS.objdump, ['-D', '-b', 'binary', '-m', 'aarch64', '--no-show-raw-insn', `${name}.bin`], { cwd: dir, env: TOOL_ENV, timeoutMs: 120_000 });
  const shapes = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const m = /^\s*[0-9a-f]+:\t(.*)$/.exec(line);
    if (!m || m[1].startsWith('.inst') || m[1].includes('undefined')) continue;
    const instruction = m[1].replace(/\s*\/\/.*$/, '');
    const shape = instruction.replace(/#-?(0x)?[0-9a-f.]+(e[+-]?\d+)?/g, '#I').replace(/\b([zpxwvbhsdq])([0-9]+|zr)\b/g, '$1N');
    if (!shapes.has(shape)) shapes.set(shape, instruction);
  }
  return [...shapes.values()];
}

let files = 0;

/** For each instruction, whether `as -march=<march>` assembles it. */
async function assembles(dir: string, instructions: readonly string[], march: string): Promise<boolean[]> {
  const file = join(dir, `input-${files++}.s`);
  writeFileSync(file, `${instructions.map((i) => i.replace('\t', ' ')).join('\n')}\n`);
  const r = await run(CROSS.as, [`-march=${march}`, file, '-o', '/dev/null'], { cwd: dir, env: TOOL_ENV, timeoutMs: 120_000, allowFailure: true });
  const failed = new Set([...r.stderr.matchAll(/\.s:(\d+): Error/g)].map((m) => Number(m[1]) - 1));
  return instructions.map((_, i) => !failed.has(i));
}

/**
 * The class each instruction must get: the narrowest of `tiers` (march, what it means) whose march
 * assembles it; instructions only the last tier (everything) assembles are allowed by no level.
 */
async function groundTruth(dir: string, instructions: readonly string[], tiers: readonly [string, readonly (IsaExtension | undefined)[]][]): Promise<(readonly (IsaExtension | undefined)[])[]> {
  const results = await Promise.all(tiers.map(([march]) => assembles(dir, instructions, march)));
  return instructions.map((_, i) => {
    const tier = tiers.findIndex((_t, t) => results[t][i]);
    return tier < 0 ? ['none' as IsaExtension] : tiers[tier][1];
  });
}

const NO_LEVEL: readonly IsaExtension[] = ['sveother', 'sme'];

describe('classifyAarch64 against the assembler', () => {
  const [test, name] = withCrossToolchain('classifies every instruction of a fixed sample of the SVE and the Advanced SIMD/FP encoding spaces as the narrowest -march that assembles it');
  test(name, async () => {
    const dir = tempDir('aarch64-sample');
    // SVE: bits 28:25 = 0010. Advanced SIMD and floating point: bits 27:25 = 111.
    const sve = await sampleInstructions(dir, 'sve', words(0x2545f491, 400_000, 0xf << 25, 0b0010 << 25));
    const simd = await sampleInstructions(dir, 'simd', words(0x9e3779b9, 400_000, 0x7 << 25, 0b111 << 25));
    expect(sve.length).toBeGreaterThan(3000);
    expect(simd.length).toBeGreaterThan(2000);
    const everything = 'armv9.4-a+sve2+sve2-aes+sve2-bitperm+sve2-sha3+sve2-sm4+f32mm+f64mm+bf16+i8mm+sme2+sve2p1+sme-i16i64+sme-f64f64';
    const sveTruth = await groundTruth(dir, sve, [
      ['armv8.2-a+sve', ['sve']],
      ['armv8.2-a+sve+bf16+i8mm', ['sve']],
      ['armv8.2-a+sve2', ['sve2']],
      ['armv8.2-a+sve2+bf16+i8mm', ['sve2']],
      [everything, NO_LEVEL],
    ]);
    const simdTruth = await groundTruth(dir, simd, [
      // Armv8.2 (LSE, RDM included) and optional parts the model does not count.
      ['armv8.2-a+crypto+sha3+sm4+rcpc', [undefined, 'asimd']],
      ['armv8.2-a+fp16', ['fp16']],
      ['armv8.2-a+dotprod', ['dotprod']],
      ['armv8.2-a+bf16', ['bf16']],
      ['armv8.2-a+i8mm', ['i8mm']],
      ['armv8.2-a+fp16fml', ['fhm']],
      // More parts not counted (binutils lets these imply others, so they come after the counted ones).
      ['armv8.2-a+fcma+jscvt+frintts', [undefined, 'asimd']],
      [everything, NO_LEVEL],
    ]);
    const wrong = [...sve.map((i, n) => [i, sveTruth[n]] as const), ...simd.map((i, n) => [i, simdTruth[n]] as const)]
      .filter(([instruction, expected]) => !expected.includes(classifyAarch64(instruction)))
      .map(([instruction, expected]) => `${instruction}: ${classifyAarch64(instruction)}, assembler says ${expected.join(' or ')}`);
    expect(wrong).toEqual([]);
    // Every class was seen (the sample reaches every table).
    const seen = new Set([...sve, ...simd].map(classifyAarch64));
    for (const e of ['asimd', 'fp16', 'dotprod', 'bf16', 'fhm', 'i8mm', 'sve', 'sve2', 'sveother'] as const) expect([e, seen.has(e)]).toEqual([e, true]);
  });

  const [tables, tablesName] = withCrossToolchain('every mnemonic of the tables assembles only with its feature');
  tables(tablesName, async () => {
    const dir = tempDir('aarch64-tables');
    const listed: [string, string, string][] = [
      ...M.DOTPROD.map((m) => [`${m} v0.4s, v1.16b, v2.16b`, 'armv8.2-a', 'armv8.2-a+dotprod'] as [string, string, string]),
      ...M.I8MM.filter((m) => !m.endsWith('dot')).map((m) => [`${m} v0.4s, v1.16b, v2.16b`, 'armv8.2-a', 'armv8.2-a+i8mm'] as [string, string, string]),
      ['usdot v0.4s, v1.16b, v2.16b', 'armv8.2-a', 'armv8.2-a+i8mm'],
      ['sudot v0.4s, v1.16b, v2.4b[0]', 'armv8.2-a', 'armv8.2-a+i8mm'],
      ['bfdot v0.4s, v1.8h, v2.8h', 'armv8.2-a', 'armv8.2-a+bf16'],
      ['bfcvt h0, s1', 'armv8.2-a', 'armv8.2-a+bf16'],
      ...M.FHM.map((m) => [`${m} v0.4s, v1.4h, v2.4h`, 'armv8.2-a+fp16', 'armv8.2-a+fp16fml'] as [string, string, string]),
      ...M.SVE_SCALAR.map((m) => [m === 'setffr' ? m : m.startsWith('sq') || m.startsWith('uq') ? `${m} x0` : m === 'rdvl' ? 'rdvl x0, #1' : m.startsWith('add') ? `${m} x0, x1, #1` : m.startsWith('cterm') ? `${m} x0, x1` : `${m} x0`, 'armv8.2-a', 'armv8.2-a+sve'] as [string, string, string]),
    ];
    const bad = await assembles(dir, listed.map((l) => l[0]), 'armv8.2-a');
    const withFeature = await Promise.all(listed.map(([i, , march]) => assembles(dir, [i], march)));
    const without = await Promise.all(listed.map(([i, march]) => assembles(dir, [i], march)));
    expect(listed.filter((_, n) => without[n][0] || !withFeature[n][0]).map((l) => l[0])).toEqual([]);
    expect(bad.filter(Boolean)).toEqual([]);
    expect(listed.map(([i]) => classifyAarch64(i.replace(' ', '\t'))).every((c) => c !== undefined && c !== 'asimd')).toBe(true);
  });
});
