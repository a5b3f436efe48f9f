import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { parseConfigFile } from '../../config/parse';
import { VllmWheelsError } from '../errors';
import { existsSync } from 'node:fs';
import { BASE_WHEELS_MANIFEST } from './base-wheels';

/** base-wheels.json as `<rocm>:base-wheels` writes it: each stripped wheel, its version before and after, its sha256. */
export const baseWheelsManifestSchema = z.looseObject({
  wheels: z.array(
    z.looseObject({
      distribution: z.string('must be the distribution name'),
      version: z.string('must be the stripped version'),
      localVersion: z.string('must be the version as built'),
      file: z.string('must be the wheel file name'),
      sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits'),
    }),
    'must list the base wheels',
  ),
});
export type BaseWheelsManifest = z.output<typeof baseWheelsManifestSchema>;

/** The manifest in `dir` (dist/base-wheels/<rocm project>); an error saying which step writes it when it is missing. */
export function readBaseWheelsManifest(dir: string, rocmProject: string): BaseWheelsManifest {
  const file = join(dir, BASE_WHEELS_MANIFEST);
  if (!existsSync(file)) throw new VllmWheelsError(`${file} is missing: \`nx run ${rocmProject}:base-wheels\` writes it with the base wheels. Run it first.`);
  return parseConfigFile(baseWheelsManifestSchema, file);
}

/**
 * The base wheels as requirement lines a venv installs them from: `torch @ file:///…/torch-2.9.0-….whl#sha256=…`.
 * A direct reference is the only candidate pip (or uv) considers for its name, so no index's torch can win
 * (PyPI's CUDA torch 2.9.0 has a more specific tag than the base wheel's); the hash is checked on install and
 * makes the lines (and the venv keyed on them) change when the wheels' bytes do.
 */
export function baseWheelRequirements(dir: string, manifest: BaseWheelsManifest): string[] {
  return manifest.wheels.map((w) => `${w.distribution} @ ${pathToFileURL(join(dir, w.file)).href}#sha256=${w.sha256}`);
}
