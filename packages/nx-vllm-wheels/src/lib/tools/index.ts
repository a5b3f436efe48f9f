/**
 * The pinned Python tools venv (auditwheel, twine, wheel, uv; pypiserver and moto for tests). No Nx here.
 */
export { TOOL_GROUPS, TOOL_GROUP_NAMES, TOOL_PROGRAMS, normalizeGroups, toolRequirements } from './requirements';
export type { ToolGroup } from './requirements';
export { ensureToolsVenv, toolsVenvKey } from './venv';
export type { ToolsVenv, ToolsVenvOptions } from './venv';
