import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { silentLogger, type Logger } from '../lib/log';
import { ensureToolsVenv, TOOL_GROUP_NAMES, type ToolsVenv } from '../lib/tools';

/**
 * The cache shared by every test run on this machine (never removed by the tests): the tools venv is
 * installed once per machine, not once per run. `VLLM_WHEELS_TEST_CACHE` moves it.
 */
export function testCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.VLLM_WHEELS_TEST_CACHE) return resolve(env.VLLM_WHEELS_TEST_CACHE);
  return join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache'), 'vllm-wheels-tests');
}

let shared: Promise<ToolsVenv> | undefined;

/**
 * The tools venv with every group (auditwheel, twine, wheel, uv, pypiserver, moto) in the shared test
 * cache: one venv for all tests. Created by the first test that needs it (a minute or so on a fresh
 * machine), reused afterwards.
 */
export function testToolsVenv(log: Logger = silentLogger): Promise<ToolsVenv> {
  shared ??= ensureToolsVenv({ cacheRoot: testCacheRoot(), groups: TOOL_GROUP_NAMES, env: process.env, log, timeoutMs: 20 * 60_000 });
  return shared;
}

/**
 * The tools venv's bin directory as the run's global setup made it (tools/jest/global-setup.ts), or
 * undefined when a spec runs without it.
 */
export function testToolsBin(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.VLLM_WHEELS_TEST_TOOLS_BIN || undefined;
}
