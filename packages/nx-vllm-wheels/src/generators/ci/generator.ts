import { createProjectGraphAsync, logger, readProjectsConfigurationFromProjectGraph, type ProjectConfiguration, type Tree } from '@nx/devkit';
import { parseConfigText, rocmConfigSchema, torchConfigSchema } from '../../config';
import { ciOptionsSchema, renderNightlyWorkflow, renderWorkflow, VARIANT_TAG, workflowOrigin, type CiOptions, type CiOptionsInput, type CiWorkspace } from '../../lib/ci';
import { ConfigError, VllmWheelsError } from '../../lib/errors';

export type CiGeneratorOptions = CiOptionsInput;

const OPTIONS_NAME = 'nx g nx-vllm-wheels:ci options';

const tagged = (projects: Record<string, ProjectConfiguration>, tag: string, target: string) =>
  Object.entries(projects)
    .filter(([, p]) => p.tags?.includes(tag) && p.targets?.[target])
    .map(([name, p]) => ({ name, root: p.root }))
    .sort((a, b) => (a.name < b.name ? -1 : 1));

/** The workspace as the workflow needs it, from the projects the plugin inferred (and torch.json). */
export function ciWorkspaceFromProjects(tree: Tree, projects: Record<string, ProjectConfiguration>): CiWorkspace {
  const variants = tagged(projects, VARIANT_TAG, 'wheel');
  if (!variants.length) {
    throw new ConfigError(
      `No variant project to build: no project is tagged "${VARIANT_TAG}" with a "wheel" target. The nx-vllm-wheels plugin infers one per ` +
        'packages/<variant>/wheel.json (or packages/<source>/<variant>/wheel.json) once packages/<name>/vllm.json and packages/<name>/torch.json exist and "nx-vllm-wheels" is in nx.json\'s plugins.',
    );
  }
  const [torch] = tagged(projects, 'vllm-wheels:torch', 'install');
  const sources = tagged(projects, 'vllm-wheels:source', 'checkout');
  const torchFile = torch && `${torch.root}/torch.json`;
  const python = torchFile && tree.exists(torchFile) ? parseConfigText(torchConfigSchema, torchFile, tree.read(torchFile, 'utf8') ?? '').python : undefined;
  if (!python) throw new ConfigError('No torch.json found (the project tagged "vllm-wheels:torch"): its "python" is the version CI sets up; pass --python to choose one.');
  // The ROCm index is made from the wheelhouses, which the publish job does not have (decision 59): not published by CI yet.
  const indexes = tagged(projects, 'vllm-wheels:index', 'publish')
    .filter((i) => !projects[i.name].tags?.includes('device:rocm'))
    .map((i) => i.name);
  // A source follows its branch when its vllm.json says so (the plugin validated the file to infer the
  // project; the nightly lock job reads "follow" the same way); its variants carry the tag source:<name>.
  const follows = (file: string) => {
    try {
      return (JSON.parse(tree.read(file, 'utf8') ?? '') as { follow?: unknown }).follow === true;
    } catch {
      return false;
    }
  };
  const followed = sources
    .map((s) => ({ name: s.name, config: `${s.root}/vllm.json` }))
    .filter((s) => tree.exists(s.config) && follows(s.config))
    .map((s) => ({ ...s, variants: variants.filter((v) => projects[v.name].tags?.includes(`source:${s.name}`)).map((v) => v.name) }));
  const members = (name: string) => projects[name].targets?.index?.options?.variants as string[] | undefined;
  // The arch of each variant's wheel.json (the plugin validated it to infer the project).
  const aarch64 = variants
    .filter((v) => {
      try {
        return (JSON.parse(tree.read(`${v.root}/wheel.json`, 'utf8') ?? '') as { arch?: unknown }).arch === 'aarch64';
      } catch {
        return false;
      }
    })
    .map((v) => v.name);
  // The ROCm variants build on the self-hosted ROCm runners, with rocm.json's python.
  const rocm = variants.filter((v) => projects[v.name].tags?.includes('device:rocm')).map((v) => v.name);
  const [rocmEnv] = tagged(projects, 'vllm-wheels:rocm', 'base-wheels');
  const rocmFile = rocmEnv && `${rocmEnv.root}/rocm.json`;
  const rocmPython = rocm.length && rocmFile && tree.exists(rocmFile) ? parseConfigText(rocmConfigSchema, rocmFile, tree.read(rocmFile, 'utf8') ?? '').python : undefined;
  return {
    variants: variants.map((v) => v.name),
    indexes,
    python,
    cacheKeyFiles: [...sources.map((s) => `${s.root}/vllm.json`), torchFile].filter((f): f is string => !!f && tree.exists(f)),
    npmLockfile: tree.exists('package-lock.json'),
    ...(followed.length ? { followed, indexMembers: Object.fromEntries(indexes.map((i) => [i, members(i) ?? variants.map((v) => v.name)])) } : {}),
    ...(aarch64.length ? { aarch64 } : {}),
    ...(rocm.length ? { rocm } : {}),
    ...(rocmPython && rocmPython !== python ? { rocmPython } : {}),
  };
}

export type WriteResult = { path: string; status: 'created' | 'updated' | 'unchanged' | 'deleted' };

/**
 * Writes `.github/workflows/<name>`. The same workspace and options give the same bytes (a re-run
 * changes nothing); a file this generator wrote is replaced; a file edited by hand or written by
 * someone else is replaced only with `force`.
 */
export function writeCiWorkflow(tree: Tree, rawOptions: CiGeneratorOptions, workspace: CiWorkspace): WriteResult {
  const options = parseOptions(rawOptions);
  return writeStamped(tree, `.github/workflows/${options.name}`, renderWorkflow(workspace, options), options, 'name');
}

/**
 * Writes `.github/workflows/<nightlyName>` when the workspace has followed sources; without any, removes
 * the one this generator wrote (its check would fail every night), and leaves an edited one alone.
 * Undefined when there is nothing to write or remove.
 */
export function writeNightlyWorkflow(tree: Tree, rawOptions: CiGeneratorOptions, workspace: CiWorkspace): WriteResult | undefined {
  const options = parseOptions(rawOptions);
  const path = `.github/workflows/${options.nightlyName}`;
  if (workspace.followed?.length) return writeStamped(tree, path, renderNightlyWorkflow(workspace, options), options, 'nightlyName');
  if (!tree.exists(path) || (workflowOrigin(tree.read(path, 'utf8') ?? '') !== 'generated' && !options.force)) return undefined;
  tree.delete(path);
  return { path, status: 'deleted' };
}

function parseOptions(rawOptions: CiGeneratorOptions): CiOptions {
  return parseConfigText(ciOptionsSchema, OPTIONS_NAME, JSON.stringify(rawOptions ?? {}));
}

function writeStamped(tree: Tree, path: string, text: string, options: CiOptions, nameOption: 'name' | 'nightlyName'): WriteResult {
  const existing = tree.exists(path) ? tree.read(path, 'utf8') : null;
  if (existing === text) return { path, status: 'unchanged' };
  if (existing !== null && !options.force) {
    const origin = workflowOrigin(existing);
    if (origin !== 'generated') {
      const why = origin === 'edited' ? 'was edited by hand since nx-vllm-wheels generated it' : 'was not written by nx-vllm-wheels';
      throw new VllmWheelsError(
        `${path} ${why}; it is left as it is. Re-run with --force to replace it (your changes are lost), or with --${nameOption}=<other>.yml to write a new file beside it.`,
      );
    }
  }
  tree.write(path, text);
  return { path, status: existing === null ? 'created' : 'updated' };
}

/** `nx g nx-vllm-wheels:ci`: a GitHub Actions workflow for this workspace's variants. */
export default async function ciGenerator(tree: Tree, options: CiGeneratorOptions): Promise<void> {
  const graph = await createProjectGraphAsync({ exitOnError: false });
  const workspace = ciWorkspaceFromProjects(tree, readProjectsConfigurationFromProjectGraph(graph).projects);
  const { path, status } = writeCiWorkflow(tree, options, workspace);
  logger.info(`${path}: ${status === 'unchanged' ? 'up to date' : status} (variants: ${workspace.variants.join(', ')}).`);
  const nightly = writeNightlyWorkflow(tree, options, workspace);
  if (nightly) {
    const what = nightly.status === 'deleted' ? 'no source follows a branch any more' : `sources ${workspace.followed!.map((s) => s.name).join(', ')}`;
    logger.info(`${nightly.path}: ${nightly.status === 'unchanged' ? 'up to date' : nightly.status} (${what}).`);
  }
}
