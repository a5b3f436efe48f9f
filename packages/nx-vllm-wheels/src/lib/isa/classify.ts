/**
 * Classifies one disassembled instruction into the ISA extension it needs (model.ts names them and says
 * which level allows which); the mnemonic tables are in mnemonics.ts.
 */
import * as M from './mnemonics';
import { ALLOWED_EXTENSIONS, archOfExtension, ISA_EXTENSIONS, LEVELS_BY_ARCH, levelIndex, levelOf, type IsaExtension, type IsaLevel } from './model';

export { ISA_EXTENSIONS, levelOf, type IsaExtension };

/** The lowest level that allows each extension; null: no level allows it (see model.ts). */
export const ISA_LEVEL: Readonly<Record<IsaExtension, IsaLevel | null>> = Object.fromEntries(ISA_EXTENSIONS.map((e) => [e, levelOf(e)])) as Record<
  IsaExtension,
  IsaLevel | null
>;

/** Within the extension's architecture: 0 for avx2 (armv8) … one past the last level for an extension no level allows. */
export function levelRank(extension: IsaExtension): number {
  const level = ISA_LEVEL[extension];
  return level === null ? LEVELS_BY_ARCH[archOfExtension(extension)].length : levelIndex(level);
}

/** True when a library capped at `ceiling` must not contain `extension`. */
export function exceeds(extension: IsaExtension, ceiling: IsaLevel): boolean {
  return !ALLOWED_EXTENSIONS[ceiling].has(extension);
}

/** Mnemonics that name their extension whatever the operands (checked before the operand rules). */
const BY_MNEMONIC = new Map<string, IsaExtension>([
  ...tag(M.AVX512_VNNI, 'avx512vnni'),
  ...tag(M.AVX512_BF16, 'avx512bf16'),
  ...tag(M.AVX_NE_CONVERT, 'avxneconvert'),
  ...tag(M.AVX_VNNI_INT8, 'avxvnniint8'),
  ...tag(M.AVX512_VBMI, 'avx512vbmi'),
  ...tag(M.AVX512_VBMI2, 'avx512vbmi2'),
  ...tag(M.AVX512_IFMA, 'avx512ifma'),
  ...tag(M.AVX512_VPOPCNTDQ, 'avx512vpopcntdq'),
  ...tag(M.AVX512_BITALG, 'avx512bitalg'),
  ...tag(M.AVX512_VP2INTERSECT, 'avx512vp2intersect'),
  ...tag(M.AVX512_PHI, 'avx512phi'),
  ...tag(M.AVX512_FP16, 'avx512fp16'),
  ...tag(
    M.GFNI.map((g) => `v${g}`),
    'gfni',
  ),
]);
/** AMX mnemonics starting with "t" (tile* is amxtile). */
const AMX = new Map<string, IsaExtension>([
  ...tag(M.AMX_BF16, 'amxbf16'),
  ...tag(M.AMX_INT8, 'amxint8'),
  ...tag(M.AMX_FP16, 'amxfp16'),
  ...tag(M.AMX_COMPLEX, 'amxcomplex'),
  ...tag(M.AMX_FP8, 'amxfp8'),
]);
const aesClmul = new Set<string>(M.AES_CLMUL);
const vnni = new Set<string>(M.AVX512_VNNI);
const bf16 = new Set<string>(M.AVX512_BF16);
const ifma = new Set<string>(M.AVX512_IFMA);
const evexOnly = new Set<string>(M.EVEX_ONLY);
const notAvx = new Set<string>(M.NOT_AVX);

function tag(mnemonics: readonly string[], extension: IsaExtension): [string, IsaExtension][] {
  return mnemonics.map((m) => [m, extension]);
}
/**
 * An operand only EVEX can encode: a zmm register, an opmask register (`%k1`, `{%k1}`), zeroing `{z}`,
 * embedded broadcast `{1to16}`, rounding or suppress-all-exceptions (`{rn-sae}`, `{sae}`), or
 * xmm/ymm registers 16-31.
 */
const EVEX_OPERAND = /%zmm|%k[0-7]|\{(?:z\}|1to|r[dnuz]-sae\}|sae\})|%[xy]mm(?:1[6-9]|[23][0-9])/;

const VEX_PREFIX = '{vex} ';
const EVEX_PREFIX = '{evex} ';

/**
 * The extension of one instruction as objdump prints it in AT&T syntax (the text after the address
 * and tab: `vpaddd %zmm1,%zmm2,%zmm0`, `{vex} vpdpbusd %ymm1,%ymm2,%ymm3`), or undefined for baseline
 * x86-64 (including SSE4.2, BMI1/2, LZCNT, MOVBE: everything every avx2 CPU has).
 *
 * Called for every line of a disassembly, so it checks the first character before anything else: most
 * instructions are decided there without allocating.
 */
export function classify(instruction: string): IsaExtension | undefined {
  switch (instruction.charCodeAt(0)) {
    case 0x76: // v
      return classifyVector(instruction, 0, false);
    case 0x7b: // {
      if (instruction.startsWith(VEX_PREFIX)) return classifyVexPrefixed(instruction, VEX_PREFIX.length);
      if (instruction.startsWith(EVEX_PREFIX)) return classifyVector(instruction, EVEX_PREFIX.length, true);
      return undefined;
    case 0x6b: // k
      return startsWithAny(instruction, M.OPMASK_PREFIXES) ? 'avx512' : undefined;
    case 0x74: // t
      return classifyAmx(instruction);
    case 0x6c: // l
    case 0x73: // s
      return startsWithAny(instruction, M.AMX_TILE) ? 'amxtile' : undefined;
    case 0x67: // g
      return startsWithAny(instruction, M.GFNI) ? 'gfni' : undefined;
    default:
      return undefined;
  }
}

/** An instruction whose mnemonic starts at `start` with "v"; `evex`: objdump marked it `{evex}`. */
function classifyVector(text: string, start: number, evex: boolean): IsaExtension | undefined {
  const space = text.indexOf(' ', start);
  const end = space < 0 ? text.length : space;
  const mnemonic = start === 0 && end === text.length ? text : text.slice(start, end);
  const named = BY_MNEMONIC.get(mnemonic);
  if (named !== undefined) return named;
  if (aesClmul.has(mnemonic)) return evex || EVEX_OPERAND.test(text) ? 'avx512vaes' : text.includes('%ymm', end) ? 'vaes' : 'avx2';
  if (evex) return 'avx512';
  if (mnemonic.startsWith('vcmp') && (mnemonic.endsWith('ph') || mnemonic.endsWith('sh'))) return 'avx512fp16'; // vcmpltph, vcmpeqsh
  if (EVEX_OPERAND.test(text) || evexOnly.has(mnemonic)) return 'avx512';
  if (mnemonic.startsWith('vpbroadcast') && isGeneralRegister(text, end)) return 'avx512'; // vpbroadcastd %eax,%xmm1
  if (mnemonic === 'vpermq' && text.indexOf('$', end) < 0) return 'avx512'; // the VEX form always has an imm8
  if (notAvx.has(mnemonic)) return undefined;
  return 'avx2';
}

/** `{vex} <mnemonic>`: the VEX forms of what were EVEX-only mnemonics. */
function classifyVexPrefixed(text: string, start: number): IsaExtension | undefined {
  const space = text.indexOf(' ', start);
  const mnemonic = text.slice(start, space < 0 ? text.length : space);
  if (vnni.has(mnemonic)) return 'avxvnni';
  if (bf16.has(mnemonic)) return 'avxneconvert';
  if (ifma.has(mnemonic)) return 'avxifma';
  return classifyVector(text, start, false);
}

/** A mnemonic starting with "t": AMX, or baseline (test, tzcnt). */
function classifyAmx(text: string): IsaExtension | undefined {
  if (text.startsWith('tile')) return 'amxtile';
  const space = text.indexOf(' ');
  const known = AMX.get(space < 0 ? text : text.slice(0, space));
  if (known !== undefined) return known;
  return startsWithAny(text, M.AMX_PREFIXES) ? 'amxother' : undefined;
}

/** The first operand (after the mnemonic ending at `end`) is a general purpose register (%eax, %r8d). */
function isGeneralRegister(text: string, end: number): boolean {
  let i = end;
  while (text.charCodeAt(i) === 0x20) i++;
  if (text.charCodeAt(i) !== 0x25) return false; // %
  const c = text.charCodeAt(i + 1);
  return c === 0x65 || c === 0x72; // %e.., %r..
}

function startsWithAny(text: string, prefixes: readonly string[]): boolean {
  for (const p of prefixes) if (text.startsWith(p)) return true;
  return false;
}
