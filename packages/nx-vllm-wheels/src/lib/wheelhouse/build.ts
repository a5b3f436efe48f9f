import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { replaceDirAtomic } from '../fs';
import { DOCKERIGNORE, renderDockerfile, type DockerfileOptions } from './dockerfile';
import { CONSTRAINTS_FILE, MANIFEST_FILE, serializeConstraints, serializeManifest, type WheelhouseManifest } from './manifest';
import { resolveWheelhouse, type ResolveWheelhouseOptions } from './resolve';

export interface BuildWheelhouseOptions extends Omit<ResolveWheelhouseOptions, 'outDir' | 'workDir'> {
  /** The wheelhouse folder: replaced as a whole when everything in it is ready. */
  dir: string;
  dockerfile: DockerfileOptions;
  /** Where the scratch venv goes (default the OS temp dir); removed afterwards. */
  tempRoot?: string;
}

/**
 * `dir` becomes: the wheels (resolveWheelhouse), manifest.json (file, distribution, version, sha256, role),
 * constraints.txt (name==version of each: a pip constraints file to pin a later resolution to this one),
 * a Dockerfile that installs them into /opt/venv, and its .dockerignore.
 */
export async function buildWheelhouse(options: BuildWheelhouseOptions): Promise<WheelhouseManifest | undefined> {
  const workDir = mkdtempSync(join(options.tempRoot ?? tmpdir(), 'vllm-wheels-wheelhouse-'));
  try {
    if (options.dryRun) {
      await resolveWheelhouse({ ...options, outDir: options.dir, workDir });
      options.log.info(`[dry-run] would replace ${options.dir} with the wheels, ${MANIFEST_FILE}, ${CONSTRAINTS_FILE}, Dockerfile and .dockerignore`);
      return undefined;
    }
    let manifest: WheelhouseManifest | undefined;
    await replaceDirAtomic(options.dir, async (tmp) => {
      manifest = (await resolveWheelhouse({ ...options, outDir: tmp, workDir })) as WheelhouseManifest;
      writeFileSync(join(tmp, MANIFEST_FILE), serializeManifest(manifest));
      writeFileSync(join(tmp, CONSTRAINTS_FILE), serializeConstraints(manifest));
      writeFileSync(join(tmp, 'Dockerfile'), renderDockerfile(manifest, options.dockerfile));
      writeFileSync(join(tmp, '.dockerignore'), DOCKERIGNORE);
    });
    return manifest;
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}
