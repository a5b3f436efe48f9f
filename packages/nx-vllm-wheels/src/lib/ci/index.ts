/**
 * The CI workflow the `ci` generator writes: options, the YAML writer, the workflow as text (no Nx here).
 */
export { ciOptionsSchema } from './options';
export type { CiOptions, CiOptionsInput } from './options';
export { CI_SECRETS, CI_VARIABLES, VARIANT_TAG, nightlyVariants, planScript, renderWorkflow, workflowOrigin } from './workflow';
export type { CiWorkspace, FollowedSource } from './workflow';
export { lockScript, renderNightlyWorkflow } from './nightly';
export { Commented, Spaced, commented, spaced, toYaml, yamlComment } from './yaml';
export type { YamlMap, YamlScalar, YamlValue } from './yaml';
