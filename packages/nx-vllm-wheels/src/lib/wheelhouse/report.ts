import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ToolError } from '../errors';

/**
 * pip's installation report (`pip install --report`, https://pip.pypa.io/en/stable/reference/installation-report/):
 * only the fields the wheelhouse reads. Each item is a distribution pip installed (or, with --dry-run,
 * would install), with the exact file it chose.
 */
const itemSchema = z.object({
  download_info: z.object({
    url: z.string(),
    archive_info: z.object({ hashes: z.record(z.string(), z.string()).optional() }).optional(),
    dir_info: z.object({}).passthrough().optional(),
    vcs_info: z.object({}).passthrough().optional(),
  }),
  /** Named on the command line (not pulled in as a dependency). */
  requested: z.boolean(),
  metadata: z.object({ name: z.string(), version: z.string() }).passthrough(),
});

const reportSchema = z.object({ version: z.string(), install: z.array(itemSchema) });

export interface ReportItem {
  name: string;
  version: string;
  /** The file pip chose (https://…, file://…). */
  url: string;
  /** Its sha256 when the index (or pip, for a local file) gave one. */
  sha256?: string;
  requested: boolean;
}

/** The items of the report in `file`; a directory or VCS requirement is refused (a wheelhouse holds files). */
export function readInstallReport(file: string): ReportItem[] {
  let parsed: z.output<typeof reportSchema>;
  try {
    parsed = reportSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch (e) {
    throw new ToolError(`pip's installation report ${file} cannot be read: ${(e as Error).message}`, { cause: e });
  }
  return parsed.install.map((item) => {
    const { download_info: info, metadata } = item;
    if (!info.archive_info) {
      throw new ToolError(
        `${metadata.name} ${metadata.version} comes from ${info.url}, a ${info.vcs_info ? 'version control' : 'directory'} requirement: a wheelhouse is made of archives (give a wheel, an sdist or a name).`,
      );
    }
    return { name: metadata.name, version: metadata.version, url: info.url, sha256: info.archive_info.hashes?.sha256, requested: item.requested };
  });
}
