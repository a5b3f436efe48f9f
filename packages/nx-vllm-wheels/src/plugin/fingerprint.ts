import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, extname, join, relative, resolve } from 'node:path';

/**
 * The plugin code that shapes each cached target's output is the import closure of the executor that
 * runs it: every module it loads, followed through relative imports (npm packages are not followed;
 * they are pinned by the lockfile), plus each executor's schema.json (its defaults are options) and the
 * package's Python scripts a module names. Its hash is part of the target's options, so editing any file
 * a step loads rebuilds that step, while editing code it never loads (publishing, the cache server,
 * inference) does not cost an hour per variant. No list is kept by hand: a new module is covered the
 * moment a step imports it, and an import that points at no file fails the computation.
 */
const STEP_EXECUTORS = {
  build: ['build-wheel'],
  // The wheel is made from the build's output, so the build's code shapes it too.
  wheel: ['build-wheel', 'normalize'],
  // The index reads the wheels; their own code is in their hashes (dependentTasksOutputFiles).
  index: ['build-index'],
  'rocm-base-wheels': ['rocm-base-wheels'],
  'rocm-build': ['build-rocm'],
  'rocm-wheel': ['build-rocm', 'normalize-rocm'],
  // Made from the wheel (its bytes are in the hash through dependentTasksOutputFiles).
  wheelhouse: ['wheelhouse'],
  'rocm-wheelhouse': ['rocm-wheelhouse'],
} as const;

export type FingerprintKind = keyof typeof STEP_EXECUTORS;

/** Written by `npm run build` next to the compiled code: what the plugin reads when it runs from dist/. */
export const FINGERPRINTS_FILE = 'fingerprints.json';

export interface StepFingerprint {
  /** 16 hex digits of sha256 over each file's path and bytes. */
  hash: string;
  /** Relative to the code root (`dist/` or `src/`); `../python/…` and `../src/executors/…/schema.json` for assets. */
  files: string[];
}

export type Fingerprints = Record<FingerprintKind, StepFingerprint>;

export class FingerprintError extends Error {}

/** The relative specifiers a module loads at run time: imports and re-exports with values, require(), import(). */
export function relativeImports(source: string): string[] {
  const specifiers: string[] = [];
  const patterns = [
    // import x from '…', import { a } from '…', export { a } from '…', export * from '…' (not `import type`/`export type`)
    /^\s*(?:import|export)\s+(?!type[\s{])(?:[^'";]*?\sfrom\s*)?['"](\.[^'"]*)['"]/gm,
    /\brequire\(\s*['"](\.[^'"]*)['"]\s*\)/g,
    /\bimport\(\s*['"](\.[^'"]*)['"]\s*\)/g,
  ];
  for (const pattern of patterns) for (const m of source.matchAll(pattern)) specifiers.push(m[1]);
  return specifiers;
}

/** Python script names in a module (`'analyze_wheel.py'`): the package's own are run as files, never imported. */
function namedPythonScripts(source: string): string[] {
  return [...source.matchAll(/['"]([\w-]+\.py)['"]/g)].map((m) => m[1]);
}

function resolveModule(from: string, specifier: string, ext: string): string | undefined {
  const base = resolve(dirname(from), specifier);
  for (const candidate of [base, `${base}${ext}`, join(base, `index${ext}`)]) {
    if (extname(candidate) === ext && existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

/**
 * Every file `entries` load (absolute paths, sorted), with `ext` the code's extension (`.ts` in the
 * sources, `.js` in dist/). Throws FingerprintError when an import points at no file.
 */
export function importClosure(entries: readonly string[], ext: string, pythonDir: string): string[] {
  const seen = new Set<string>();
  const pending = [...entries];
  while (pending.length) {
    const file = pending.pop() as string;
    if (seen.has(file)) continue;
    if (!existsSync(file)) throw new FingerprintError(`Code fingerprint: ${file} does not exist.`);
    seen.add(file);
    if (file.endsWith('.py')) continue;
    const source = readFileSync(file, 'utf8');
    for (const specifier of relativeImports(source)) {
      if (specifier.endsWith('.json')) {
        pending.push(resolve(dirname(file), specifier));
        continue;
      }
      const target = resolveModule(file, specifier, ext);
      if (!target) throw new FingerprintError(`Code fingerprint: ${file} imports '${specifier}', which is no ${ext} file.`);
      pending.push(target);
    }
    // Other names (vLLM's setup.py) are not ours; a script of ours that is missing fails where it runs.
    for (const script of namedPythonScripts(source)) if (existsSync(join(pythonDir, script))) pending.push(join(pythonDir, script));
  }
  return [...seen].sort();
}

export interface CodeLayout {
  /** `dist/` or `src/` of the package. */
  codeRoot: string;
  /** `.js` or `.ts`. */
  ext: string;
  /** The package root (executors' schema.json live under src/executors, Python scripts under python/). */
  packageRoot: string;
}

/** Every step's fingerprint, computed from the code as it is on disk. */
export function computeFingerprints(layout: CodeLayout): Fingerprints {
  const out = {} as Fingerprints;
  for (const kind of Object.keys(STEP_EXECUTORS) as FingerprintKind[]) {
    const executors = STEP_EXECUTORS[kind];
    const entries = executors.map((name) => join(layout.codeRoot, 'executors', name, `executor${layout.ext}`));
    const schemas = executors.map((name) => join(layout.packageRoot, 'src', 'executors', name, 'schema.json'));
    const files = importClosure([...entries, ...schemas], layout.ext, join(layout.packageRoot, 'python'));
    const hash = createHash('sha256');
    const names = files.map((f) => relative(layout.codeRoot, f));
    files.forEach((file, i) => hash.update(names[i]).update('\0').update(readFileSync(file)).update('\0'));
    out[kind] = { hash: hash.digest('hex').slice(0, 16), files: names };
  }
  return out;
}

const packageRoot = resolve(__dirname, '..', '..');
const runningLayout: CodeLayout = { codeRoot: resolve(__dirname, '..'), ext: extname(__filename), packageRoot };

/** `npm run build`: computes every step's fingerprint from dist/ and writes dist/fingerprints.json (temp + rename). */
export function writeFingerprintsFile(layout: CodeLayout = runningLayout): string {
  const file = join(layout.codeRoot, FINGERPRINTS_FILE);
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(computeFingerprints(layout), null, 2)}\n`);
  renameSync(tmp, file);
  return file;
}

let loaded: Fingerprints | undefined;

/**
 * The fingerprint of `kind` for the code that is running: from dist/fingerprints.json when the plugin
 * runs compiled (a plugin built without it is refused, never fingerprinted as empty), computed from the
 * sources when it runs as TypeScript (the unit tests).
 */
export function pluginFingerprint(kind: FingerprintKind): string {
  loaded ??= runningLayout.ext === '.ts' ? computeFingerprints(runningLayout) : readFingerprintsFile(runningLayout.codeRoot);
  return loaded[kind].hash;
}

function readFingerprintsFile(codeRoot: string): Fingerprints {
  const file = join(codeRoot, FINGERPRINTS_FILE);
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Fingerprints;
  } catch (e) {
    throw new FingerprintError(`nx-vllm-wheels is not built completely: ${file} cannot be read (${(e as Error).message}). Run \`npm run build\` in the plugin's repository.`);
  }
}
