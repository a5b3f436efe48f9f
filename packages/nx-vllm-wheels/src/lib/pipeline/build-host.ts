import type { StepContext, VariantSpec } from './context';
import { hostArch } from './third-party';

/** The architecture of the machine a step runs on. */
export function stepHost(ctx: Pick<StepContext, 'host'>): string {
  return ctx.host ?? hostArch();
}

/**
 * vLLM's CPU build compiles for the machine it runs on: setup.py and cmake/cpu_extension.cmake take the
 * architecture's branch from the host, and there is no cross build. So a variant builds only on a
 * machine of its `arch`; elsewhere this says so (undefined when the host fits).
 */
export function buildHostProblem(variant: Pick<VariantSpec, 'name' | 'configFile' | 'config'>, host: string): string | undefined {
  const { arch } = variant.config;
  if (arch === host) return undefined;
  return (
    `${variant.name} builds on an ${arch} machine only (${variant.configFile} "arch": "${arch}"), and this machine is ${host}: ` +
    `vLLM's CPU build compiles for the machine it runs on. Build it on ${arch} (the workflow \`nx g nx-vllm-wheels:ci\` writes sends it to an ${arch} runner); ` +
    `the later steps run anywhere: with that build's dist/raw/${variant.name} (the wheel and build-info.json) in place, \`nx run ${variant.name}:wheel --excludeTaskDependencies\`.`
  );
}
