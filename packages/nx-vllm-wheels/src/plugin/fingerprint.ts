import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative } from 'node:path';

/**
 * The plugin code that shapes each cached target's output. Its hash is part of the target's options,
 * so a change to how variants are built rebuilds them, while a change elsewhere in the plugin
 * (publishing, inference, the cache server) does not cost an hour per variant.
 */
const BUILD_CODE = ['lib/build', 'lib/git', 'lib/python', 'lib/pipeline/build', 'lib/pipeline/source', 'lib/pipeline/torch'];
const SHAPING_CODE = {
  build: BUILD_CODE,
  // The wheel is made from the build's output, so the build's code shapes it too.
  wheel: [...BUILD_CODE, 'lib/wheel', 'lib/isa', 'lib/tools', 'lib/pipeline/normalize', 'lib/pipeline/version', 'lib/pipeline/cpu-platform-plugin', '../python'],
  // The index reads wheels (lib/wheel) and renders pages (lib/index); the wheels' own code is in their hashes.
  // index-config: its defaults (the title) shape the landing page.
  index: ['lib/index', 'lib/wheel', 'lib/fs', 'lib/pipeline/build-index', 'config/index-config'],
} as const;

export type FingerprintKind = keyof typeof SHAPING_CODE;

const packageCodeRoot = join(__dirname, '..');
const codeExtension = extname(__filename); // .js when loaded from dist, .ts under the test runner
const memo = new Map<FingerprintKind, string>();

function filesUnder(path: string): string[] {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    try {
      stat = statSync(path + codeExtension);
      path += codeExtension;
    } catch {
      return [];
    }
  }
  if (stat.isFile()) return [path];
  return readdirSync(path)
    .sort()
    .flatMap((entry) => filesUnder(join(path, entry)))
    .filter((f) => (f.endsWith(codeExtension) || f.endsWith('.py')) && !f.endsWith(`.spec${codeExtension}`) && !f.endsWith(`.d.ts`) && !f.includes('test-support'));
}

/** The code files (relative to the package's code root) whose bytes make up `kind`'s fingerprint. */
export function shapingFiles(kind: FingerprintKind): string[] {
  return SHAPING_CODE[kind].flatMap((dir) => filesUnder(join(packageCodeRoot, dir))).map((f) => relative(packageCodeRoot, f));
}

export function pluginFingerprint(kind: FingerprintKind): string {
  const known = memo.get(kind);
  if (known) return known;
  const hash = createHash('sha256');
  for (const file of shapingFiles(kind)) hash.update(file).update('\0').update(readFileSync(join(packageCodeRoot, file))).update('\0');
  const value = hash.digest('hex').slice(0, 16);
  memo.set(kind, value);
  return value;
}
