export { findPython } from './find-python';
export type { PythonInterpreter } from './find-python';
export { readBuildRequirements } from './requirements';
export type { BuildRequirements } from './requirements';
export { ensureBuildVenv, venvKey, venvPaths, urlSecrets, readVenvStamp } from './venv';
export type { BuildVenv, BuildVenvOptions, IndexSettings } from './venv';
