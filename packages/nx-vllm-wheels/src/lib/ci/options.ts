import { z } from 'zod';

/**
 * Options of `nx g nx-vllm-wheels:ci`, with their defaults in one place (schema.json mirrors them for
 * Nx's prompt and help).
 */
export const ciOptionsSchema = z
  .strictObject({
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*\.ya?ml$/, 'must be a file name ending in .yml or .yaml (it is written to .github/workflows/)')
      .default('vllm-wheels.yml'),
    remoteCache: z.enum(['self-hosted', 'nx-cloud', 'none']).default('self-hosted'),
    mainBranch: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]*$/, 'must be a branch name such as "main"')
      .refine((b) => !b.includes('..') && !b.endsWith('/') && !b.endsWith('.'), { message: 'must be a branch name such as "main"' })
      .default('main'),
    affected: z.boolean().default(true).describe('pull requests build only the variants `nx affected` lists'),
    publish: z.boolean().default(true).describe('a publish job on v* tags'),
    publishIndex: z.boolean().default(true).describe('the publish job also publishes the wheel index to S3'),
    runsOn: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be a runner label such as "ubuntu-latest"').default('ubuntu-latest'),
    runsOnAarch64: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be a runner label such as "ubuntu-24.04-arm"')
      .default('ubuntu-24.04-arm')
      .describe('the runner of the aarch64 variants\' builds (vLLM builds for the machine it runs on); every other job runs on runsOn'),
    rocmRunsOn: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*(,[A-Za-z0-9][A-Za-z0-9._-]*)*$/, 'must be runner labels separated by commas, such as "self-hosted,linux,rocm"')
      .default('self-hosted,linux,rocm')
      .transform((labels) => labels.split(','))
      .describe("the labels of the ROCm variants' builds (a self-hosted runner with ROCm); every other job runs on runsOn"),
    nodeVersion: z.string().regex(/^\d+(\.\d+){0,2}$/, 'must be a Node.js version such as "20"').default('20'),
    python: z.string().regex(/^3\.\d+$/, 'must be a Python minor version such as "3.11"').optional().describe("default: torch.json's python"),
    installCommand: z.string().min(1).default('npm ci'),
    timeoutMinutes: z.number().int().min(1).max(4320).default(360),
    force: z.boolean().default(false).describe('overwrite a workflow file that was edited by hand'),
    nightlyName: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*\.ya?ml$/, 'must be a file name ending in .yml or .yaml (it is written to .github/workflows/)')
      .default('vllm-wheels-nightly.yml')
      .describe('the scheduled workflow of the followed sources ("follow": true in vllm.json), written only when there are some'),
    nightlyCron: z
      .string()
      .regex(/^[0-9*,/-]+( [0-9A-Za-z*,/-]+){4}$/, 'must be a cron schedule of five fields (minute hour day month weekday, UTC), e.g. "0 3 * * *"')
      .default('0 3 * * *')
      .describe('when the nightly workflow runs (UTC)'),
  })
  .refine((o) => o.name !== o.nightlyName, { path: ['nightlyName'], message: 'must differ from name: the nightly workflow is a file of its own' });

export type CiOptions = z.output<typeof ciOptionsSchema>;
export type CiOptionsInput = z.input<typeof ciOptionsSchema>;
