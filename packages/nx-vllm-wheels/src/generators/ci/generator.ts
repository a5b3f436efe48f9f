import { createProjectGraphAsync, logger, readProjectsConfigurationFromProjectGraph, type ProjectConfiguration, type Tree } from '@nx/devkit';
import { parseConfigText, torchConfigSchema } from '../../config';
import { ciOptionsSchema, renderWorkflow, VARIANT_TAG, workflowOrigin, type CiOptionsInput, type CiWorkspace } from '../../lib/ci';
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
  return {
    variants: variants.map((v) => v.name),
    indexes: tagged(projects, 'vllm-wheels:index', 'publish').map((i) => i.name),
    python,
    cacheKeyFiles: [...sources.map((s) => `${s.root}/vllm.json`), torchFile].filter((f): f is string => !!f && tree.exists(f)),
    npmLockfile: tree.exists('package-lock.json'),
  };
}

export type WriteResult = { path: string; status: 'created' | 'updated' | 'unchanged' };

/**
 * Writes `.github/workflows/<name>`. The same workspace and options give the same bytes (a re-run
 * changes nothing); a file this generator wrote is replaced; a file edited by hand or written by
 * someone else is replaced only with `force`.
 */
export function writeCiWorkflow(tree: Tree, rawOptions: CiGeneratorOptions, workspace: CiWorkspace): WriteResult {
  const options = parseConfigText(ciOptionsSchema, OPTIONS_NAME, JSON.stringify(rawOptions ?? {}));
  const path = `.github/workflows/${options.name}`;
  const text = renderWorkflow(workspace, options);
  const existing = tree.exists(path) ? tree.read(path, 'utf8') : null;
  if (existing === text) return { path, status: 'unchanged' };
  if (existing !== null && !options.force) {
    const origin = workflowOrigin(existing);
    if (origin !== 'generated') {
      const why = origin === 'edited' ? 'was edited by hand since nx-vllm-wheels generated it' : 'was not written by nx-vllm-wheels';
      throw new VllmWheelsError(
        `${path} ${why}; it is left as it is. Re-run with --force to replace it (your changes are lost), or with --name=<other>.yml to write a new file beside it.`,
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
}
