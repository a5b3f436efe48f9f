/**
 * Mnemonic tables of the aarch64 classifier, as objdump (binutils 2.40, aarch64-linux-gnu) spells them.
 * Data only; the rules that use them are in classify-aarch64.ts.
 *
 * How the tables were made and are checked: random words of the SVE encoding space and of the Advanced
 * SIMD and floating-point space were disassembled, one instruction per distinct operand shape was
 * reassembled with `as -march=armv8.2-a+<feature>` for each feature, and each mnemonic was put where the
 * narrowest feature that assembles it says. classify-aarch64.spec.ts repeats that on a fixed sample on
 * every run (cross binutils installed) and compares every instruction's class with the assembler's.
 */

/** Dot product (FEAT_DotProd) on vector registers; their SVE forms are `sve`. */
export const DOTPROD = ['sdot', 'udot'] as const;

/** BF16 (FEAT_BF16), Advanced SIMD and scalar forms; the SVE forms (and SVE-only `bfcvtnt`) are `sve`. */
export const BF16 = ['bfcvt', 'bfcvtn', 'bfcvtn2', 'bfdot', 'bfmlalb', 'bfmlalt', 'bfmmla'] as const;

/** Int8 matrix multiply (FEAT_I8MM) on vector registers; their SVE forms are `sve`. */
export const I8MM = ['smmla', 'sudot', 'ummla', 'usdot', 'usmmla'] as const;

/** FP16 widening multiply-add (FEAT_FHM). */
export const FHM = ['fmlal', 'fmlal2', 'fmlsl', 'fmlsl2'] as const;

/**
 * Floating-point mnemonics that need FEAT_FP16 when they operate on half precision (an `h` register or a
 * `.4h`/`.8h`/`.2h`/`.h[i]` arrangement); on single and double precision they are baseline. Conversions
 * between half and single precision (`fcvt`, `fcvtl`, `fcvtn`) are Armv8.0 and not here.
 */
export const FP16_ARITHMETIC = [
  'fabd', 'fabs', 'facge', 'facgt', 'fadd', 'faddp', 'fccmp', 'fccmpe', 'fcmeq', 'fcmge', 'fcmgt', 'fcmle', 'fcmlt', 'fcmp', 'fcmpe',
  'fcsel', 'fcvtas', 'fcvtau', 'fcvtms', 'fcvtmu', 'fcvtns', 'fcvtnu', 'fcvtps', 'fcvtpu', 'fcvtzs', 'fcvtzu', 'fdiv', 'fmadd', 'fmax',
  'fmaxnm', 'fmaxnmp', 'fmaxnmv', 'fmaxp', 'fmaxv', 'fmin', 'fminnm', 'fminnmp', 'fminnmv', 'fminp', 'fminv', 'fmla', 'fmls', 'fmov',
  'fmsub', 'fmul', 'fmulx', 'fneg', 'fnmadd', 'fnmsub', 'fnmul', 'frecpe', 'frecps', 'frecpx', 'frinta', 'frinti', 'frintm', 'frintn',
  'frintp', 'frintx', 'frintz', 'frsqrte', 'frsqrts', 'fsqrt', 'fsub', 'scvtf', 'ucvtf',
] as const;

/** SVE instructions without any z or p register operand (vector-length arithmetic, counters, FFR). */
export const SVE_SCALAR = [
  'addpl', 'addvl', 'cntb', 'cntd', 'cnth', 'cntw', 'ctermeq', 'ctermne', 'decb', 'decd', 'dech', 'decw', 'incb', 'incd', 'inch',
  'incw', 'rdvl', 'setffr', 'sqdecb', 'sqdecd', 'sqdech', 'sqdecw', 'sqincb', 'sqincd', 'sqinch', 'sqincw', 'uqdecb', 'uqdecd',
  'uqdech', 'uqdecw', 'uqincb', 'uqincd', 'uqinch', 'uqincw',
] as const;

/** SME instructions without a ZA or ZT0 operand (streaming vector length, streaming mode). */
export const SME_SCALAR = ['addspl', 'addsvl', 'rdsvl', 'smstart', 'smstop'] as const;

/**
 * Mnemonics that are SVE2 in every SVE form (some name an Advanced SIMD instruction too, `addp`, `tbx`,
 * `sqdmulh`: on vector registers those are baseline).
 */
export const SVE2 = [
  'adclb', 'adclt', 'addhnb', 'addhnt', 'addp', 'bcax', 'bsl', 'bsl1n', 'bsl2n', 'cadd', 'cdot', 'cmla', 'eor3', 'eorbt', 'eortb',
  'faddp', 'fcvtlt', 'fcvtnt', 'fcvtx', 'fcvtxnt', 'flogb', 'fmaxnmp', 'fmaxp', 'fminnmp', 'fminp', 'fmlalb', 'fmlalt', 'fmlslb',
  'fmlslt', 'histcnt', 'histseg', 'ldnt1sb', 'ldnt1sh', 'ldnt1sw', 'match', 'nbsl', 'nmatch', 'pmul', 'raddhnb', 'raddhnt',
  'rshrnb', 'rshrnt', 'rsubhnb', 'rsubhnt', 'saba', 'sabalb', 'sabalt', 'sabdlb', 'sabdlt', 'sadalp', 'saddlb', 'saddlbt', 'saddlt',
  'saddwb', 'saddwt', 'sbclb', 'sbclt', 'shadd', 'shrnb', 'shrnt', 'shsub', 'shsubr', 'sli', 'smaxp', 'sminp', 'smlalb', 'smlalt',
  'smlslb', 'smlslt', 'smullb', 'smullt', 'sqabs', 'sqcadd', 'sqdmlalb', 'sqdmlalbt', 'sqdmlalt', 'sqdmlslb', 'sqdmlslbt',
  'sqdmlslt', 'sqdmulh', 'sqdmullb', 'sqdmullt', 'sqneg', 'sqrdcmlah', 'sqrdmlah', 'sqrdmlsh', 'sqrdmulh', 'sqrshl', 'sqrshlr',
  'sqrshrnb', 'sqrshrnt', 'sqrshrunb', 'sqrshrunt', 'sqshl', 'sqshlr', 'sqshlu', 'sqshrnb', 'sqshrnt', 'sqshrunb', 'sqshrunt',
  'sqsubr', 'sqxtnb', 'sqxtnt', 'sqxtunb', 'sqxtunt', 'srhadd', 'sri', 'srshl', 'srshlr', 'srshr', 'srsra', 'sshllb', 'sshllt',
  'ssra', 'ssublb', 'ssublbt', 'ssublt', 'ssubltb', 'ssubwb', 'ssubwt', 'subhnb', 'subhnt', 'suqadd', 'tbx', 'uaba', 'uabalb',
  'uabalt', 'uabdlb', 'uabdlt', 'uadalp', 'uaddlb', 'uaddlt', 'uaddwb', 'uaddwt', 'uhadd', 'uhsub', 'uhsubr', 'umaxp', 'uminp',
  'umlalb', 'umlalt', 'umlslb', 'umlslt', 'umullb', 'umullt', 'uqrshl', 'uqrshlr', 'uqrshrnb', 'uqrshrnt', 'uqshl', 'uqshlr',
  'uqshrnb', 'uqshrnt', 'uqsubr', 'uqxtnb', 'uqxtnt', 'urecpe', 'urhadd', 'urshl', 'urshlr', 'urshr', 'ursqrte', 'ursra', 'ushllb',
  'ushllt', 'usqadd', 'usra', 'usublb', 'usublt', 'usubwb', 'usubwt', 'whilege', 'whilegt', 'whilehi', 'whilehs', 'whilerw',
  'whilewr', 'xar',
] as const;

/**
 * SVE mnemonics whose SVE2 forms are told apart by their operands (see classify-aarch64.ts):
 * a register pair in braces (`ext`, `splice`, a two-register `tbl`), a vector base address (`ldnt1*`,
 * `stnt1*` gathers and scatters), no governing predicate (`mul`, `mla`, `mls`, `smulh`, `umulh`; `mul`
 * by an immediate is SVE), or one (`sqadd`, `uqadd`, `sqsub`, `uqsub`).
 */
export const SVE2_BY_PAIR = ['ext', 'splice', 'tbl'] as const;
export const SVE2_BY_VECTOR_ADDRESS = ['ldnt1b', 'ldnt1d', 'ldnt1h', 'ldnt1w', 'stnt1b', 'stnt1d', 'stnt1h', 'stnt1w'] as const;
export const SVE2_UNPREDICATED = ['mla', 'mls', 'mul', 'smulh', 'umulh'] as const;
export const SVE2_PREDICATED = ['sqadd', 'sqsub', 'uqadd', 'uqsub'] as const;

/**
 * Optional SVE parts no level includes: F32MM/F64MM (`fmmla`, `ld1ro*`, and 128-bit `trn`/`zip`/`uzp`),
 * SVE2-AES (`aesd`, `aese`, and `pmullb`/`pmullt` on `.q`), SVE2-BitPerm, SVE2-SHA3, SVE2-SM4, and the
 * SME/SVE2.1 instructions that have no ZA operand.
 */
export const SVE_OTHER = [
  'aesd', 'aese', 'bdep', 'bext', 'bgrp', 'fmmla', 'ld1rob', 'ld1rod', 'ld1roh', 'ld1row', 'psel', 'rax1', 'revd', 'sclamp', 'sm4e',
  'sm4ekey', 'uclamp',
] as const;
/** SVE mnemonics that are F64MM on 128-bit elements (`.q`), plain SVE otherwise. */
export const SVE_OTHER_ON_Q = ['trn1', 'trn2', 'uzp1', 'uzp2', 'zip1', 'zip2'] as const;
/** SVE2 mnemonics that are SVE2-AES on 128-bit elements (`.q`). */
export const SVE2_AES_ON_Q = ['pmullb', 'pmullt'] as const;
