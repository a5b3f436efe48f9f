import { dirname } from 'node:path';
import { testToolsVenv } from '../../packages/nx-vllm-wheels/src/test-support/tools';

/**
 * Once per run, before any worker starts: the shared tools venv (auditwheel, twine, uv, pypiserver, moto),
 * so that workers running side by side never wait on each other's creation of it. Its bin directory is
 * handed to every worker in the environment (see src/test-support/tools.ts: testToolsBin).
 */
export default async function globalSetup(): Promise<void> {
  const tools = await testToolsVenv();
  process.env.VLLM_WHEELS_TEST_TOOLS_BIN = dirname(tools.bin('uv'));
}
