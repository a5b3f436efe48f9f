export { gitClient, gitEnv, assertGitAvailable } from './client';
export type { GitClient, GitClientOptions } from './client';
export { ensureMirror, fetchMirror, hasCommit, commitState } from './mirror';
export type { MirrorOptions, CommitState } from './mirror';
export { reportsCorruption } from './corruption';
export { ensureCommit, resolveRef } from './checkout';
export { prepareWorktree } from './worktree';
export type { Patch, SourceEdit, WorktreeOptions } from './worktree';
export { readFileAtCommit, commitTime, exactTag } from './show';
