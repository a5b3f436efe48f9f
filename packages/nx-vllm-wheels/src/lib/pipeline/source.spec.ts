import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { vllmConfigSchema } from '../../config';
import { rejection } from '../../test-support/rejection';
import { tempDir } from '../../test-support/temp';
// The shared vLLM-shaped fixture (release tags on main); the nightly commits are added to a clone of it here.
import { createVllmRepo } from '../../../../../tools/fixtures/index.js';
import { machineCache } from '../cache-dir';
import { ConfigError, SourceError } from '../errors';
import { commitTime } from '../git';
import { recordingLogger } from '../log';
import { run } from '../process';
import { compareVersions } from '../wheel';
import type { StepContext, UnlockedSourceSpec } from './context';
import { lockedOrWarn, lockSource, sourceMirrorDir } from './source';
import { applyVersionPolicy } from './version';

const ENV = {
  PATH: process.env.PATH,
  HOME: tempDir('lock-home'),
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_AUTHOR_NAME: 'Nightly Test',
  GIT_AUTHOR_EMAIL: 'nightly@example.invalid',
  GIT_COMMITTER_NAME: 'Nightly Test',
  GIT_COMMITTER_EMAIL: 'nightly@example.invalid',
  LC_ALL: 'C',
  TZ: 'UTC',
};
const CONFIG = 'packages/vllm-main/vllm.json';

const git = async (cwd: string, args: string[], date?: string) =>
  (await run('git', args, { cwd, env: { ...ENV, ...(date && { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date }) }, timeoutMs: 60_000 })).stdout.trim();

/** Commits one more line of the README on the upstream's current branch at `date` (ISO, with zone); returns its id. */
async function commitOn(upstream: string, date: string, message: string): Promise<string> {
  writeFileSync(join(upstream, 'README.md'), `${readFileSync(join(upstream, 'README.md'), 'utf8')}\n${message}\n`);
  await git(upstream, ['commit', '--quiet', '-am', message], date);
  return git(upstream, ['rev-parse', 'HEAD']);
}

let upstream: string;

beforeAll(async () => {
  // A clone of the fixture is "upstream": the fixture's tags keep their ids, main gains commits after them.
  const fixture = createVllmRepo(join(tempDir('lock-fixture'), 'vllm'));
  upstream = join(tempDir('lock-upstream'), 'vllm');
  await git(tempDir('lock-cwd'), ['clone', '--quiet', fixture.path, upstream]);
});

/** A workspace with packages/vllm-main/vllm.json as given, and its own machine cache. */
function workspace(config: Record<string, unknown>, dryRun = false) {
  const root = tempDir('lock-ws');
  mkdirSync(join(root, 'packages/vllm-main'), { recursive: true });
  writeFileSync(join(root, CONFIG), `${JSON.stringify({ repository: upstream, ...config }, null, 2)}\n`);
  const env = { ...ENV, VLLM_WHEELS_CACHE_DIR: join(root, '.machine-cache') };
  const ctx: StepContext & { log: ReturnType<typeof recordingLogger> } = { workspaceRoot: root, env, cache: machineCache(env), log: recordingLogger(), dryRun };
  const text = () => readFileSync(join(root, CONFIG), 'utf8');
  const source = (): UnlockedSourceSpec => ({ name: 'vllm-main', configFile: CONFIG, config: vllmConfigSchema.parse(JSON.parse(text())) });
  return { root, ctx, text, source, lock: (options = {}) => lockSource(source(), ctx, options) };
}

describe('lock of a source that follows a branch ("follow": true)', () => {
  it('moves the commit to the head of the branch; two commits on different days give two ordered nightly versions', async () => {
    const ws = workspace({ ref: 'main', follow: true });
    const day1 = await commitOn(upstream, '2026-11-20T09:05:59+00:00', 'nightly day 1');
    expect(await ws.lock()).toBe(day1);
    expect(JSON.parse(ws.text())).toMatchObject({ ref: 'main', follow: true, commit: day1 });
    expect(ws.ctx.log.lines.filter((l) => l.startsWith('WARNING'))).toEqual([]);

    const day2 = await commitOn(upstream, '2026-11-21T08:00:00+02:00', 'nightly day 2');
    expect(await ws.lock()).toBe(day2);
    expect(JSON.parse(ws.text()).commit).toBe(day2);
    expect(ws.ctx.log.lines).toContain(`${CONFIG}: "main" locked to ${day2} (was ${day1}).`);

    // The version each commit gets: the commit time as the build records it (SOURCE_DATE_EPOCH), in UTC.
    const mirror = sourceMirrorDir(ws.source(), ws.ctx);
    const nightly = async (commit: string, raw: string) =>
      applyVersionPolicy(raw, { local: 'strip', dev: 'commit-time' }, { commitTime: await commitTime(mirror, commit, ws.ctx.env, ws.ctx.log) });
    const v1 = await nightly(day1, `0.34.1.dev1+g${day1.slice(0, 9)}.cpu`);
    const v2 = await nightly(day2, `0.34.1.dev2+g${day2.slice(0, 9)}.cpu`);
    expect([v1, v2]).toEqual(['0.34.1.dev202611200905', '0.34.1.dev202611210600']);
    expect(compareVersions(v1, v2)).toBe(-1);
  });

  it('leaves vllm.json untouched when the branch has not moved (an unchanged main rebuilds nothing)', async () => {
    const ws = workspace({ ref: 'main', follow: true });
    const head = await ws.lock();
    const before = { text: ws.text(), mtime: statSync(join(ws.root, CONFIG)).mtimeMs };
    expect(await ws.lock()).toBe(head);
    expect({ text: ws.text(), mtime: statSync(join(ws.root, CONFIG)).mtimeMs }).toEqual(before);
    expect(ws.ctx.log.lines).toContain(`${CONFIG}: "main" is still ${head}; unchanged.`);
  });

  it('--commit locks a commit of the branch (what the nightly workflow resolved), and refuses one that is not on it', async () => {
    const ws = workspace({ ref: 'main', follow: true });
    const older = await commitOn(upstream, '2026-11-22T10:00:00+00:00', 'nightly day 3');
    const head = await commitOn(upstream, '2026-11-23T10:00:00+00:00', 'nightly day 4');
    expect(await ws.lock({ commit: older })).toBe(older);
    expect(JSON.parse(ws.text()).commit).toBe(older);
    expect(ws.ctx.log.lines).toContain(`${CONFIG}: ${older} (on "main", whose head is ${head.slice(0, 12)}) (was not locked).`);
    expect(await ws.lock({ commit: older })).toBe(older);
    expect(ws.ctx.log.lines).toContain(`${CONFIG}: ${older} is on "main" and already the lock; unchanged.`);

    await git(upstream, ['checkout', '--quiet', '-b', 'elsewhere', older]);
    const elsewhere = await commitOn(upstream, '2026-11-24T10:00:00+00:00', 'not on main');
    await git(upstream, ['checkout', '--quiet', 'main']);
    const before = ws.text();
    const notOnMain = await rejection(ws.lock({ commit: elsewhere }));
    expect(notOnMain).toBeInstanceOf(SourceError);
    expect((notOnMain as Error).message).toBe(`--commit ${elsewhere} is not on "main" of ${upstream} (its head ${head} does not contain it); ${CONFIG} is left as it was.`);
    const missing = await rejection(ws.lock({ commit: 'f'.repeat(40) }));
    expect((missing as Error).message).toBe(`--commit ${'f'.repeat(40)} does not exist in ${upstream} (fetched just now); "main" is at ${head}.`);
    const short = await rejection(ws.lock({ commit: head.slice(0, 12) }));
    expect(short).toBeInstanceOf(ConfigError);
    expect((short as Error).message).toBe(`--commit "${head.slice(0, 12)}" must be a full 40-character lowercase hex commit id (of "main" in ${CONFIG}).`);
    expect(ws.text()).toBe(before);
  });

  it('refuses to follow a tag or a commit id, naming the file and the field, and writes nothing', async () => {
    for (const [ref, kind] of [
      ['v0.34.0', 'tag'],
      [await git(upstream, ['rev-parse', 'v0.16.1^{commit}']), 'commit id'],
    ]) {
      const ws = workspace({ ref, follow: true });
      const before = ws.text();
      const error = await rejection(ws.lock());
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toBe(
        `${CONFIG} is invalid:\n  - ref: "${ref}" is a ${kind} of ${upstream}, but "follow": true needs a branch to follow (e.g. "main"); to pin it, remove "follow"`,
      );
      expect(ws.text()).toBe(before);
    }
  });

  it('warns when a source that does not follow names a branch (its lock would move each time), and not for a tag', async () => {
    const branch = workspace({ ref: 'main' });
    await branch.lock();
    expect(branch.ctx.log.lines).toContain(
      `WARNING: ${CONFIG}: "ref": "main" is a branch, so this lock pins its head today and moves whenever lock runs again. Name a tag to pin a release, or set "follow": true to follow the branch on purpose (a nightly channel).`,
    );
    const tag = workspace({ ref: 'v0.34.0' });
    await tag.lock();
    expect(tag.ctx.log.lines.filter((l) => l.startsWith('WARNING'))).toEqual([]);
  });

  it('--dry-run asks the remote (ls-remote), knows a branch from a tag, and writes nothing', async () => {
    const head = await git(upstream, ['rev-parse', 'main']);
    const ws = workspace({ ref: 'main', follow: true }, true);
    const before = ws.text();
    expect(await ws.lock()).toBe(head);
    expect(ws.text()).toBe(before);
    expect(ws.ctx.log.lines).toContain(`[dry-run] would write ${CONFIG} with "commit": "${head}" (was not locked)`);
    const tag = workspace({ ref: 'v0.34.0', follow: true }, true);
    await expect(tag.lock()).rejects.toThrow('"v0.34.0" is a tag of');
  });
});

describe('lockedOrWarn', () => {
  const unlocked: UnlockedSourceSpec = { name: 'vllm-main', configFile: 'packages/vllm-main/vllm.json', config: vllmConfigSchema.parse({ repository: 'https://github.com/vllm-project/vllm.git', ref: 'main' }) };

  it('warns how to lock an unlocked source and gives nothing to work on', () => {
    const log = recordingLogger();
    expect(lockedOrWarn(unlocked, 'nothing to check out', { log })).toBeUndefined();
    expect(log.lines).toEqual(['WARNING: packages/vllm-main/vllm.json is not locked: nothing to check out until `nx run vllm-main:lock` pins "ref" (main).']);
  });

  it('gives a locked source as it is, silently', () => {
    const log = recordingLogger();
    const commit = 'a'.repeat(40);
    expect(lockedOrWarn({ ...unlocked, config: { ...unlocked.config, commit } }, 'nothing to check out', { log })?.config.commit).toBe(commit);
    expect(log.lines).toEqual([]);
  });
});
