export { gitClient, gitEnv, assertGitAvailable } from './client';
export type { GitClient, GitClientOptions } from './client';
export { ensureMirror, fetchMirror, hasCommit } from './mirror';
export type { MirrorOptions } from './mirror';
export { ensureCommit, resolveRef } from './checkout';
export { prepareWorktree } from './worktree';
export type { Patch, SourceEdit, WorktreeOptions } from './worktree';
export { readFileAtCommit, commitTime, exactTag } from './show';
