export { findPython, describePython } from './find-python';
export type { PythonInterpreter } from './find-python';
export { readBuildRequirements } from './requirements';
export type { BuildRequirements } from './requirements';
export { ensureBuildVenv, venvKey, venvPaths, urlSecrets, readVenvStamp } from './venv';
export type { BuildVenv, BuildVenvOptions, IndexSettings } from './venv';
export { createStampedVenv, isVenvComplete, missingFileIndexPage, readStamp, venvCommandRunner, venvLayout, VENV_STAMP, VENV_ENV_OVERRIDES } from './stamped-venv';
export type { StampedVenvOptions, VenvCommandOptions, VenvLayout } from './stamped-venv';
