import { appendFileSync, cpSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { tempDir } from '../test-support/temp';
import { computeFingerprints, FINGERPRINTS_FILE, relativeImports, type CodeLayout, type FingerprintKind } from './fingerprint';

const PACKAGE_ROOT = resolve(__dirname, '..', '..');
const KINDS: FingerprintKind[] = ['build', 'wheel', 'index', 'wheelhouse', 'rocm-wheelhouse'];
const SOURCES: CodeLayout = { codeRoot: join(PACKAGE_ROOT, 'src'), ext: '.ts', packageRoot: PACKAGE_ROOT };

/** Every file of the plugin that could be code or an asset (no specs, no test support). */
function pluginFiles(root: string): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((entry) => {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) return entry === 'test-support' ? [] : walk(path);
      return /\.spec\.ts$/.test(entry) ? [] : [path];
    });
  return [...walk(join(root, 'src')), ...walk(join(root, 'python'))];
}

describe('code fingerprints', () => {
  const real = computeFingerprints(SOURCES);

  it("are each step's executor's import closure: config, process, fs and the pipeline context included, code it never loads left out", () => {
    expect(real.build.files).toEqual(
      expect.arrayContaining([
        'executors/build-wheel/executor.ts',
        'executors/build-wheel/schema.json',
        'executors/shared.ts',
        'config/wheel.ts',
        'lib/process/run.ts',
        'lib/fs/atomic.ts',
        'lib/pipeline/context.ts',
        'lib/build/env.ts',
        'lib/git/worktree.ts',
        'lib/python/venv.ts',
      ]),
    );
    for (const outside of ['lib/wheel/', 'lib/cache-server/', 'lib/upload/', 'lib/pypi/', 'plugin/', 'generators/', 'cli/']) {
      expect(real.build.files.filter((f) => f.startsWith(outside))).toEqual([]);
    }
    expect(real.wheel.files).toEqual(expect.arrayContaining([...real.build.files, 'executors/normalize/executor.ts', 'lib/pipeline/normalize.ts', '../python/analyze_wheel.py']));
    expect(real.index.files).toEqual(expect.arrayContaining(['lib/index/build.ts', 'lib/index/render.ts', 'lib/pipeline/build-index.ts', 'config/index-config.ts']));
    expect(real.index.files.filter((f) => f.startsWith('lib/build/'))).toEqual([]);
    expect(real.wheelhouse.files).toEqual(expect.arrayContaining(['executors/wheelhouse/executor.ts', 'executors/wheelhouse/schema.json', 'lib/pipeline/wheelhouse.ts', 'lib/wheelhouse/resolve.ts', 'lib/wheelhouse/dockerfile.ts']));
    expect(real['rocm-wheelhouse'].files).toEqual(expect.arrayContaining(['executors/rocm-wheelhouse/executor.ts', 'lib/rocm/wheelhouse.ts', 'lib/wheelhouse/resolve.ts']));
    expect(new Set(KINDS.map((k) => real[k].hash)).size).toBe(KINDS.length);
  });

  it("change when any file in a step's closure changes, and only then", () => {
    const copy = join(tempDir('fingerprint'), 'pkg');
    for (const dir of ['src', 'python']) cpSync(join(PACKAGE_ROOT, dir), join(copy, dir), { recursive: true });
    const layout: CodeLayout = { codeRoot: join(copy, 'src'), ext: '.ts', packageRoot: copy };
    const before = computeFingerprints(layout);
    expect(KINDS.map((k) => before[k].hash)).toEqual(KINDS.map((k) => real[k].hash)); // where the code lives is not part of it
    let inside = 0;
    for (const file of pluginFiles(copy)) {
      const original = readFileSync(file);
      appendFileSync(file, '\n');
      const after = computeFingerprints(layout);
      writeFileSync(file, original);
      const name = relative(layout.codeRoot, file);
      for (const kind of KINDS) {
        const shapes = before[kind].files.includes(name);
        if (shapes) inside++;
        expect({ name, kind, changed: after[kind].hash !== before[kind].hash }).toEqual({ name, kind, changed: shapes });
      }
    }
    expect(inside).toBe(KINDS.reduce((n, k) => n + before[k].files.length, 0)); // every file of every closure was edited once
  });

  it('refuse an import that points at no file, naming the importer and the import', () => {
    const copy = join(tempDir('fingerprint'), 'pkg');
    for (const dir of ['src', 'python']) cpSync(join(PACKAGE_ROOT, dir), join(copy, dir), { recursive: true });
    appendFileSync(join(copy, 'src/lib/build/env.ts'), "\nexport { gone } from './moved-away';\n");
    expect(() => computeFingerprints({ codeRoot: join(copy, 'src'), ext: '.ts', packageRoot: copy })).toThrow(
      `Code fingerprint: ${join(copy, 'src/lib/build/env.ts')} imports './moved-away', which is no .ts file.`,
    );
  });

  it('follow what loads at run time: value imports, re-exports, require() and import(), not type-only imports', () => {
    const source = [
      "import type { A } from './types-only';",
      "import { b, type C } from './b';",
      "import * as c from './c';",
      "import './side-effect';",
      "export * from './d';",
      "export type { E } from './types-too';",
      "export {\n  f,\n  g,\n} from './f';",
      "const h = require('./h');",
      "const i = await import('./i');",
      "import { z } from 'zod';",
    ].join('\n');
    expect(relativeImports(source).sort()).toEqual(['./b', './c', './d', './f', './h', './i', './side-effect']);
  });

  it('npm run build wrote dist/fingerprints.json from the compiled closure', () => {
    const dist: CodeLayout = { codeRoot: join(PACKAGE_ROOT, 'dist'), ext: '.js', packageRoot: PACKAGE_ROOT };
    const written = JSON.parse(readFileSync(join(dist.codeRoot, FINGERPRINTS_FILE), 'utf8'));
    expect(written).toEqual(computeFingerprints(dist));
    expect(written.build.files).toEqual(expect.arrayContaining(['config/wheel.js', 'lib/process/run.js', 'lib/pipeline/context.js', '../src/executors/build-wheel/schema.json']));
  });
});
