import { z } from 'zod';

/** A patch path: relative to the config file's folder, inside it (no `..`, not absolute). */
const RELATIVE_PATH = 'must be a path relative to the config file, without ".." (the file must live in the workspace so Nx can hash it)';
export const relativePathSchema = z
  .string(RELATIVE_PATH)
  .min(1, 'must be a non-empty relative path')
  .refine((p) => !p.startsWith('/') && !/^[A-Za-z]:/.test(p) && !p.split(/[\\/]/).includes('..'), { message: RELATIVE_PATH });

const REPOSITORY = 'must be a git URL (https://, ssh://, git@host:path, file://) or a local path';
const REF = 'must name the tag or branch to lock (e.g. "v0.16.0")';
const COMMIT = 'must be the full 40-character lowercase hex commit id (run `nx run <source>:lock` to fill it in)';
const FOLLOW = 'must be true or false (default false): true makes "ref" a branch the source follows (`nx run <source>:lock` moves "commit" to its head; a nightly channel)';

/** `packages/vllm/vllm.json`: the pinned vLLM source. */
export const vllmConfigSchema = z.strictObject({
  $schema: z.string().optional(),
  description: z.string().optional(),
  repository: z.string(REPOSITORY).min(1, REPOSITORY),
  ref: z.string(REF).min(1, REF),
  /** The lock. Absent until `nx run <source>:lock` resolves `ref`: the projects are inferred, nothing builds. */
  commit: z.string(COMMIT).regex(/^[0-9a-f]{40}$/, COMMIT).optional(),
  patches: z.array(relativePathSchema).default([]),
  /** The source follows the branch "ref": lock moves the commit, the CI generator's nightly workflow locks it. Not a build input. */
  follow: z.boolean(FOLLOW).optional(),
});

export type VllmConfig = z.output<typeof vllmConfigSchema>;
/** A source whose `commit` is filled in: what every step but `lock` works on. */
export type LockedVllmConfig = VllmConfig & { commit: string };

/** Fields of vllm.json that decide what gets built (everything else, e.g. description, does not). */
export const VLLM_BUILD_FIELDS = ['commit', 'patches'] as const satisfies readonly (keyof VllmConfig)[];
