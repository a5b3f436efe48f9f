import { parseWheelFileName } from '../wheel';
import { cmp, type IndexedFile, type IndexState } from './state';

/** Pure renderers: same state, same bytes (sorted, no timestamps). */

export const API_VERSION = '1.1';
export const JSON_CONTENT_TYPE = 'application/vnd.pypi.simple.v1+json';

export type InstallHints =
  | {
      /** The CPU torch index (`https://download.pytorch.org/whl/cpu`). */
      readonly torchIndexUrl: string;
    }
  | {
      /**
       * The index holds these projects with everything they need (the ROCm index: base wheels,
       * dependencies, vLLM): one command installs each from this index alone.
       */
      readonly selfContained: readonly string[];
    };

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** A file name as a URL path segment: `+` becomes `%2B` (S3 reads a raw `+` as a space). */
export function encodeFileName(filename: string): string {
  return encodeURIComponent(filename);
}

/** The URL of a file relative to the index root, as recorded in the state. */
export function fileUrl(project: string, filename: string): string {
  return `files/${encodeURIComponent(project)}/${encodeFileName(filename)}`;
}

/** The href of a file from its project page `simple/<project>/` (root-relative URLs get `../../`). */
export function hrefFromProjectPage(url: string): string {
  return /^[a-z][a-z0-9+.-]*:/i.test(url) || url.startsWith('/') ? url : `../../${url}`;
}

/** Projects of a state, sorted, each with its files sorted by filename. */
export function groupByProject(state: IndexState): [string, IndexedFile[]][] {
  const map = new Map<string, IndexedFile[]>();
  for (const f of state.files) map.set(f.project, [...(map.get(f.project) ?? []), f]);
  return [...map.entries()].sort(([a], [b]) => cmp(a, b)).map(([p, fs]) => [p, [...fs].sort((a, b) => cmp(a.filename, b.filename))]);
}

const head = (title: string) =>
  `<!DOCTYPE html>\n<html>\n  <head>\n    <meta name="pypi:repository-version" content="${API_VERSION}">\n    <title>${escapeHtml(title)}</title>\n  </head>\n  <body>\n`;
const foot = '  </body>\n</html>\n';

/** PEP 503 root: one link per project. */
export function renderRootHtml(projects: readonly string[]): string {
  const links = projects.map((p) => `    <a href="${encodeURIComponent(p)}/">${escapeHtml(p)}</a><br>\n`).join('');
  return `${head('Simple index')}${links}${foot}`;
}

/** PEP 691 root. */
export function renderRootJson(projects: readonly string[]): string {
  return json({ meta: { 'api-version': API_VERSION }, projects: projects.map((name) => ({ name })) });
}

/** PEP 503 project page with PEP 658/714 attributes. */
export function renderProjectHtml(project: string, files: readonly IndexedFile[]): string {
  const links = files
    .map((f) => {
      const attrs = [`href="${escapeHtml(hrefFromProjectPage(f.url))}#sha256=${f.sha256}"`];
      if (f.requiresPython !== undefined) attrs.push(`data-requires-python="${escapeHtml(f.requiresPython)}"`);
      if (f.metadataSha256 !== undefined) attrs.push(`data-dist-info-metadata="sha256=${f.metadataSha256}"`, `data-core-metadata="sha256=${f.metadataSha256}"`);
      return `    <a ${attrs.join(' ')}>${escapeHtml(f.filename)}</a><br>\n`;
    })
    .join('');
  return `${head(`Links for ${project}`)}    <h1>Links for ${escapeHtml(project)}</h1>\n${links}${foot}`;
}

/** PEP 691 (API 1.1, PEP 700 `versions` and `size`) project page. */
export function renderProjectJson(project: string, files: readonly IndexedFile[]): string {
  const versions = [...new Set(files.map((f) => parseWheelFileName(f.filename).version))].sort(cmp);
  return json({
    meta: { 'api-version': API_VERSION },
    name: project,
    versions,
    files: files.map((f) => ({
      filename: f.filename,
      url: hrefFromProjectPage(f.url),
      hashes: { sha256: f.sha256 },
      ...(f.requiresPython !== undefined && { 'requires-python': f.requiresPython }),
      size: f.size,
      ...(f.metadataSha256 !== undefined && { 'core-metadata': { sha256: f.metadataSha256 }, 'dist-info-metadata': { sha256: f.metadataSha256 } }),
    })),
  });
}

/** The landing page `index.html`: what the index holds and how to install from it with pip and uv. */
export function renderLandingPage(state: IndexState, options: { baseUrl?: string; title?: string; installHints?: InstallHints }): string {
  const title = options.title ?? 'vLLM wheels';
  const simple = `${(options.baseUrl ?? 'https://<where this index is served>').replace(/\/+$/, '')}/simple/`;
  const hints = options.installHints;
  if (hints && 'selfContained' in hints) return renderSelfContainedLandingPage(state, title, simple, hints.selfContained);
  const torch = hints?.torchIndexUrl;
  const sections = groupByProject(state).map(([project, files]) => {
    const versions = [...new Set(files.map((f) => parseWheelFileName(f.filename).version))].sort(cmp);
    // pip merges its indexes (no per-package source), so the variant comes from this index alone
    // (--no-deps), then the second command adds its dependencies: torch from the CPU index, the rest from PyPI.
    const pip = [
      `pip install --no-deps --index-url ${simple} ${project}`,
      `pip install${torch ? ` --extra-index-url ${torch}` : ''} ${project}`,
    ].join('\n');
    const uvToml = [
      '[project]',
      `dependencies = [${torch ? `"${project}", "torch"` : `"${project}"`}]`,
      '',
      '[[tool.uv.index]]',
      'name = "vllm-wheels"',
      `url = "${simple}"`,
      'explicit = true',
      ...(torch ? ['', '[[tool.uv.index]]', 'name = "pytorch-cpu"', `url = "${torch}"`, 'explicit = true'] : []),
      '',
      '[tool.uv.sources]',
      `${project} = { index = "vllm-wheels" }`,
      ...(torch ? ['torch = { index = "pytorch-cpu" }'] : []),
    ].join('\n');
    return [
      `    <h2 id="${escapeHtml(project)}">${escapeHtml(project)}</h2>`,
      `    <p>Versions: ${versions.map(escapeHtml).join(', ')} (<a href="simple/${encodeURIComponent(project)}/">files</a>)</p>`,
      '    <p>With pip (the first command takes it from this index only, the second adds its dependencies):</p>',
      `    <pre><code>${escapeHtml(pip)}</code></pre>`,
      `    <p>With uv, in <code>pyproject.toml</code>, then <code>uv sync</code> (${escapeHtml(project)} comes only from this index${
        torch ? ' and torch only from the CPU index, so a resolver can never pull CUDA torch from PyPI; torch is listed because uv applies sources to direct dependencies only' : ''
      }; everything else from PyPI):</p>`,
      `    <pre><code>${escapeHtml(uvToml)}</code></pre>`,
      '',
    ].join('\n');
  });
  return landingPageHtml(title, sections);
}

/** A self-contained index's landing page: one install command per requested project, its dependencies listed. */
function renderSelfContainedLandingPage(state: IndexState, title: string, simple: string, requested: readonly string[]): string {
  const projects = groupByProject(state);
  const sections = projects
    .filter(([project]) => requested.includes(project))
    .map(([project, files]) => {
      const versions = [...new Set(files.map((f) => parseWheelFileName(f.filename).version))].sort(cmp);
      return [
        `    <h2 id="${escapeHtml(project)}">${escapeHtml(project)}</h2>`,
        `    <p>Versions: ${versions.map(escapeHtml).join(', ')} (<a href="simple/${encodeURIComponent(project)}/">files</a>)</p>`,
        '    <p>This index holds it and everything it needs: install it from this index alone.</p>',
        `    <pre><code>${escapeHtml(`pip install ${project} --index-url ${simple}`)}</code></pre>`,
        `    <p>With uv: <code>${escapeHtml(`uv pip install ${project} --index-url ${simple}`)}</code></p>`,
        '',
      ].join('\n');
    });
  const others = projects.map(([p]) => p).filter((p) => !requested.includes(p));
  return landingPageHtml(title, [
    ...sections,
    ...(others.length ? [`    <p>Also here, as their dependencies: ${others.map((p) => `<a href="simple/${encodeURIComponent(p)}/">${escapeHtml(p)}</a>`).join(', ')}.</p>`] : []),
  ]);
}

/** The landing page around its sections: the title, and where the simple repository is. */
function landingPageHtml(title: string, body: readonly string[]): string {
  return [
    '<!DOCTYPE html>',
    '<html>',
    '  <head>',
    '    <meta charset="utf-8">',
    `    <title>${escapeHtml(title)}</title>`,
    '  </head>',
    '  <body>',
    `    <h1>${escapeHtml(title)}</h1>`,
    `    <p>A PEP 503 / 691 simple repository: <a href="simple/">simple/</a>.</p>`,
    ...body,
    '  </body>',
    '</html>',
    '',
  ].join('\n');
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
