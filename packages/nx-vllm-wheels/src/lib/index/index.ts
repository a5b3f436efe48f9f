/**
 * A static PEP 503 / 691 / 658 simple repository from a set of wheels (no Nx here).
 */
export { IndexError } from './errors';
export { buildIndex } from './build';
export type { BuildIndexOptions } from './build';
export { parseIndexState, mergeState } from './state';
export type { IndexedFile, IndexState } from './state';
export { retainNewest } from './retain';
export type { Retained, Retention } from './retain';
export {
  API_VERSION,
  JSON_CONTENT_TYPE,
  escapeHtml,
  encodeFileName,
  fileUrl,
  hrefFromProjectPage,
  renderRootHtml,
  renderRootJson,
  renderProjectHtml,
  renderProjectJson,
  renderLandingPage,
} from './render';
export type { InstallHints } from './render';
export { renderIndexPages, HTML_CONTENT_TYPE, STATE_CONTENT_TYPE } from './pages';
export type { IndexPage, PageLevel, PageOptions } from './pages';
