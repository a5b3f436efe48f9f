/**
 * Verifying a published index for real (no Nx here): each variant installed with pip and with uv into a
 * fresh venv, torch from the CPU index, then imported as vLLM's CPU build.
 */
export { VerifyError } from './errors';
export { installerEnv, pipNetworkSettings } from './env';
export type { InstallerEnvOptions } from './env';
export { verifyInstalls, planVerifyInstalls, formatVerifyTable, uvProject, IMPORT_CHECK, INSTALLERS } from './verify';
export type { Installer, VerifyOptions, VerifyPackage, VerifyResult } from './verify';
