import { CPU_ISAS, type CpuIsa } from '../../config/wheel';
import { AMX_OTHER, AMX_PREFIXES, AVX512_BF16, AVX512_VNNI, AVX_NE_CONVERT, AVX_VNNI_INT8, EVEX_ONLY, IFMA, NOT_AVX, OPMASK_PREFIXES } from './mnemonics';

/**
 * The instruction set extensions the audit tells apart. Most are the variants' ISA levels themselves;
 * the others are VEX-encoded extensions that came after AVX-512 and are named apart because no AVX-512
 * level implies them (a CPU with AVX-512 VNNI need not have AVX-VNNI).
 */
export const ISA_EXTENSIONS = ['avx2', 'avx512', 'avx512vnni', 'avxvnni', 'avx512bf16', 'amxbf16', 'avxifma', 'avxneconvert', 'avxvnniint8'] as const;
export type IsaExtension = (typeof ISA_EXTENSIONS)[number];

/**
 * The lowest declared ISA level whose binaries may use each extension; null: no level allows it.
 * AVX-VNNI (`{vex} vpdpbusd`) counts at the avx512vnni level by decision, although Cascade Lake, Ice Lake
 * and Zen 4 (AVX-512 VNNI CPUs) lack it: tighten to 'amxbf16' (Sapphire Rapids has both) if that matters.
 */
export const ISA_LEVEL: Readonly<Record<IsaExtension, CpuIsa | null>> = {
  avx2: 'avx2',
  avx512: 'avx512',
  avx512vnni: 'avx512vnni',
  // AVX-VNNI (VEX) is not on Cascade Lake, Ice Lake or Zen 4, which have AVX-512 VNNI: only the AMX level (Sapphire Rapids+) implies it.
  avxvnni: 'amxbf16',
  avx512bf16: 'avx512bf16',
  amxbf16: 'amxbf16',
  avxifma: null,
  avxneconvert: null,
  avxvnniint8: null,
};

/** The declared level at which `extension` is allowed; null when no level allows it. */
export function levelOf(extension: IsaExtension): CpuIsa | null {
  return ISA_LEVEL[extension];
}

/** 0 for avx2 … 4 for amxbf16; one past the last level for an extension no level allows. */
export function levelRank(extension: IsaExtension): number {
  const level = ISA_LEVEL[extension];
  return level === null ? CPU_ISAS.length : CPU_ISAS.indexOf(level);
}

/** True when a wheel declared at `declared` must not contain `extension`. */
export function exceeds(extension: IsaExtension, declared: CpuIsa): boolean {
  return levelRank(extension) > CPU_ISAS.indexOf(declared);
}

const bf16 = new Set<string>(AVX512_BF16);
const vnni = new Set<string>(AVX512_VNNI);
const neConvert = new Set<string>(AVX_NE_CONVERT);
const vnniInt8 = new Set<string>(AVX_VNNI_INT8);
const ifma = new Set<string>(IFMA);
const evexOnly = new Set<string>(EVEX_ONLY);
const notAvx = new Set<string>(NOT_AVX);

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
      return classifyVector(instruction, 0);
    case 0x7b: // {
      if (instruction.startsWith(VEX_PREFIX)) return classifyVexPrefixed(instruction, VEX_PREFIX.length);
      if (instruction.startsWith(EVEX_PREFIX)) {
        const inner = classifyVector(instruction, EVEX_PREFIX.length);
        return inner === undefined || inner === 'avx2' ? 'avx512' : inner;
      }
      return undefined;
    case 0x6b: // k
      return startsWithAny(instruction, OPMASK_PREFIXES) ? 'avx512' : undefined;
    case 0x74: // t
      return startsWithAny(instruction, AMX_PREFIXES) ? 'amxbf16' : undefined;
    case 0x6c: // l
    case 0x73: // s
      return startsWithAny(instruction, AMX_OTHER) ? 'amxbf16' : undefined;
    default:
      return undefined;
  }
}

/** An instruction whose mnemonic starts at `start` with "v". */
function classifyVector(text: string, start: number): IsaExtension | undefined {
  const space = text.indexOf(' ', start);
  const end = space < 0 ? text.length : space;
  const mnemonic = start === 0 && end === text.length ? text : text.slice(start, end);
  if (vnni.has(mnemonic)) return 'avx512vnni';
  if (bf16.has(mnemonic)) return 'avx512bf16';
  if (neConvert.has(mnemonic)) return 'avxneconvert';
  if (vnniInt8.has(mnemonic)) return 'avxvnniint8';
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
  return classifyVector(text, start);
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
