export { createNodes, createNodesV2 } from './plugin/create-nodes';
export type { VllmWheelsPluginOptions } from './plugin/create-nodes';
export { preTasksExecution } from './plugin/dry-run';
