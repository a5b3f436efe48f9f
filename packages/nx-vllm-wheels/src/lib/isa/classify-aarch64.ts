/**
 * Classifies one disassembled aarch64 instruction into the ISA extension it needs (model.ts names them
 * and says which level allows which); the mnemonic tables are in mnemonics-aarch64.ts.
 */
import * as M from './mnemonics-aarch64';
import type { IsaExtension } from './model';

const sets = {
  dotprod: new Set<string>(M.DOTPROD),
  bf16: new Set<string>(M.BF16),
  i8mm: new Set<string>(M.I8MM),
  fhm: new Set<string>(M.FHM),
  fp16: new Set<string>(M.FP16_ARITHMETIC),
  sveScalar: new Set<string>(M.SVE_SCALAR),
  smeScalar: new Set<string>(M.SME_SCALAR),
  sve2: new Set<string>(M.SVE2),
  sve2ByPair: new Set<string>(M.SVE2_BY_PAIR),
  sve2ByVectorAddress: new Set<string>(M.SVE2_BY_VECTOR_ADDRESS),
  sve2Unpredicated: new Set<string>(M.SVE2_UNPREDICATED),
  sve2Predicated: new Set<string>(M.SVE2_PREDICATED),
  sveOther: new Set<string>(M.SVE_OTHER),
  sveOtherOnQ: new Set<string>(M.SVE_OTHER_ON_Q),
  sve2AesOnQ: new Set<string>(M.SVE2_AES_ON_Q),
};

/** ZA (whole, tiles, slices) and ZT0: SME's registers. */
const SME_OPERAND = /\bza(?![a-z])|\bzt0\b/;
/** An SVE vector (z0-z31), predicate (p0-p15) or predicate-as-counter (pn8) register. */
const SVE_OPERAND = /\b(?:z(?:[12]?[0-9]|3[01])|pn?(?:1[0-5]|[0-9]))\b/;
/** A governing predicate: `p0/m`, `p3/z`. */
const GOVERNING_PREDICATE = /\bp(?:1[0-5]|[0-9])\/[mz]\b/;
/** An Advanced SIMD vector register with an arrangement: `v0.4s`, `v1.16b`, `v2.h[3]`. */
const VECTOR_REGISTER = /\bv(?:[12]?[0-9]|3[01])\./;
/** Half precision: an `h` register, or a `.2h`/`.4h`/`.8h`/`.h[i]` arrangement. */
const HALF = /\bh(?:[12]?[0-9]|3[01])\b|\.[248]h\b|\.h\[/;
const Q_ELEMENTS = /\.q\b/;

/**
 * The extension of one instruction as objdump prints it for aarch64 (`sdot\tv0.4s, v1.16b, v2.16b`:
 * the mnemonic, a tab, the operands), or undefined for baseline Armv8 code (general registers, scalar
 * floating point, loads and stores, and the optional parts model.ts does not count).
 */
export function classifyAarch64(instruction: string): IsaExtension | undefined {
  const tab = instruction.indexOf('\t');
  const mnemonic = tab < 0 ? instruction.trim() : instruction.slice(0, tab);
  const operands = tab < 0 ? '' : operandText(instruction, tab + 1);
  if (sets.smeScalar.has(mnemonic) || SME_OPERAND.test(operands)) return 'sme';
  if (SVE_OPERAND.test(operands)) return classifySve(mnemonic, operands);
  if (sets.sveScalar.has(mnemonic)) return 'sve';
  if (sets.dotprod.has(mnemonic)) return 'dotprod';
  if (sets.i8mm.has(mnemonic)) return 'i8mm';
  if (sets.bf16.has(mnemonic)) return 'bf16';
  if (sets.fhm.has(mnemonic)) return 'fhm';
  if (sets.fp16.has(mnemonic) && HALF.test(operands)) return 'fp16';
  if (VECTOR_REGISTER.test(operands)) return 'asimd';
  return undefined;
}

/** An instruction with an SVE register: SVE, SVE2, or an optional part. */
function classifySve(mnemonic: string, operands: string): IsaExtension {
  if (/\bpn(?:1[0-5]|[0-9])\b/.test(operands)) return 'sveother'; // predicate-as-counter: SVE2.1/SME2
  if (sets.sveOther.has(mnemonic)) return 'sveother';
  if (sets.sveOtherOnQ.has(mnemonic)) return Q_ELEMENTS.test(operands) ? 'sveother' : 'sve';
  if (sets.sve2AesOnQ.has(mnemonic)) return Q_ELEMENTS.test(operands) ? 'sveother' : 'sve2';
  if (sets.sve2.has(mnemonic)) return 'sve2';
  if (sets.sve2ByPair.has(mnemonic)) return /\{[^}]*,/.test(operands) ? 'sve2' : 'sve';
  if (sets.sve2ByVectorAddress.has(mnemonic)) return operands.includes('[z') ? 'sve2' : 'sve';
  if (sets.sve2Unpredicated.has(mnemonic)) return GOVERNING_PREDICATE.test(operands) || operands.includes('#') ? 'sve' : 'sve2';
  if (sets.sve2Predicated.has(mnemonic)) return GOVERNING_PREDICATE.test(operands) ? 'sve2' : 'sve';
  return 'sve';
}

/** The operands from `start`, without objdump's `<symbol>` annotation and `// …` comment. */
function operandText(instruction: string, start: number): string {
  let end = instruction.length;
  const symbol = instruction.indexOf(' <', start);
  if (symbol >= 0) end = symbol;
  const comment = instruction.indexOf('//', start);
  if (comment >= 0 && comment < end) end = comment;
  return instruction.slice(start, end);
}
