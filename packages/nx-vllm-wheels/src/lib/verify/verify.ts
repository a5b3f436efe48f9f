import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CommandError } from '../errors';
import type { Logger } from '../log';
import { envChanges, formatPlannedCommand, redact, redactUrlCredentials, run, type RunResult } from '../process';
import { urlSecrets } from '../python';
import { VerifyError } from './errors';
import { installerEnv } from './env';

export const INSTALLERS = ['pip', 'uv'] as const;
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;
export type Installer = (typeof INSTALLERS)[number];

export interface VerifyPackage {
  /** The Nx project (the table's row). */
  readonly variant: string;
  readonly distribution: string;
  /** Pin (the version built here), or the newest on the index when absent. */
  readonly version?: string;
}

export interface VerifyOptions {
  /** The published simple index, with a trailing "/": the variant comes from there, and only from there. */
  readonly indexUrl: string;
  /** The CPU torch index: torch comes from there (for uv: only from there). */
  readonly torchIndexUrl: string;
  /** Where the variant's other dependencies come from (PyPI, or torch.json's indexUrl). */
  readonly dependenciesIndexUrl: string;
  readonly packages: readonly VerifyPackage[];
  /**
   * `self-contained` (the ROCm index): the index holds the variant and everything it needs, so each
   * installer installs from it alone (torchIndexUrl and dependenciesIndexUrl are not used) and the check
   * imports vllm and torch without asking for a platform (no GPU here). Default `cpu`.
   */
  readonly mode?: 'cpu' | 'self-contained';
  readonly installers: readonly Installer[];
  /** The interpreter the fresh venvs are made from. */
  readonly python: string;
  /** uv from the tools venv (needed when "uv" is one of the installers). */
  readonly uv?: string;
  /** The user's environment; installerEnv() decides what of it pip and uv see. */
  readonly env: Record<string, string | undefined>;
  /** Network settings from the user's pip config (see pipNetworkSettings). */
  readonly pipNetwork?: Record<string, string>;
  readonly log: Logger;
  /** Where the temporary venvs go (default the OS temp dir); each is removed after its check. */
  readonly tempRoot?: string;
  readonly timeoutMs?: number;
}

export interface VerifyResult {
  readonly variant: string;
  readonly installer: Installer;
  readonly ok: boolean;
  /** ok: "<dist> <version>, platform CpuPlatform, torch <v>"; failed: the reason (one line). */
  readonly summary: string;
  /** The end of the failing command's output (secrets masked). */
  readonly details?: string;
}

/**
 * What `vllm` must do after the install: import, and pick the CPU platform the way an engine start
 * does (vllm.config.DeviceConfig with device="auto" asks vllm.platforms.current_platform).
 */
export const IMPORT_CHECK = `
import importlib.metadata as md, json, sys
import vllm
from vllm.platforms import current_platform
from vllm.config import DeviceConfig
print(json.dumps({
    "distribution": md.version(sys.argv[1]),
    "torch": md.version("torch"),
    "platform": type(current_platform).__name__,
    "device_type": DeviceConfig().device_type,
}))
`;

/** The self-contained index's check: vllm and torch import (the platform needs a GPU, which a verifying machine may not have). */
export const IMPORT_ONLY_CHECK = `
import importlib.metadata as md, json, sys
import vllm, torch
print(json.dumps({"distribution": md.version(sys.argv[1]), "torch": md.version("torch")}))
`;

/**
 * uv's project file, as the landing page tells users: the published index and the CPU torch index are
 * `explicit`, each the only source of its package (the variant, torch); everything else comes from the
 * dependencies index (the default).
 */
export function uvProject(requirement: string, distribution: string, indexes: Pick<VerifyOptions, 'indexUrl' | 'torchIndexUrl' | 'dependenciesIndexUrl'>): string {
  const q = (s: string) => JSON.stringify(s);
  return [
    '[project]',
    'name = "vllm-wheels-verify"',
    'version = "0"',
    `dependencies = [${q(requirement)}, "torch"]`,
    '',
    '[[tool.uv.index]]',
    'name = "published"',
    `url = ${q(indexes.indexUrl)}`,
    'explicit = true',
    '',
    '[[tool.uv.index]]',
    'name = "pytorch-cpu"',
    `url = ${q(indexes.torchIndexUrl)}`,
    'explicit = true',
    '',
    '[[tool.uv.index]]',
    'name = "dependencies"',
    `url = ${q(indexes.dependenciesIndexUrl)}`,
    'default = true',
    '',
    '[tool.uv.sources]',
    `${q(distribution)} = { index = "published" }`,
    'torch = { index = "pytorch-cpu" }',
    '',
  ].join('\n');
}

/** For each package and installer: a fresh venv, the install from the index, the import check. */
export async function verifyInstalls(options: VerifyOptions): Promise<VerifyResult[]> {
  const results: VerifyResult[] = [];
  for (const pkg of options.packages) {
    for (const installer of options.installers) {
      options.log.step(`${pkg.variant}: install ${pkg.distribution}${pkg.version ? `==${pkg.version}` : ''} with ${installer} from ${redactUrlCredentials(options.indexUrl)}`);
      const result = await verifyOne(pkg, installer, options);
      options.log.info(result.ok ? `ok: ${result.summary}` : `FAILED: ${result.summary}${result.details ? `\n${result.details}` : ''}`);
      results.push(result);
    }
  }
  return results;
}

/** One command of a check (`what` names it in a failure), or a file written before the next command. */
type VerifyStep = { what: string; command: string; args: string[]; cwd: string } | { write: string; text: string };

/**
 * The steps of one check in `root` (a fresh temporary directory): the venv, the install, the import
 * check. What verifyOne runs and what a dry run prints.
 */
function verifySteps(pkg: VerifyPackage, installer: Installer, options: Omit<VerifyOptions, 'packages' | 'installers' | 'env' | 'log'>, root: string): VerifyStep[] {
  const venv = join(root, 'venv');
  const python = join(venv, 'bin', 'python');
  const requirement = pkg.version ? `${pkg.distribution}==${pkg.version}` : pkg.distribution;
  const selfContained = options.mode === 'self-contained';
  const importCheck = { what: 'import check', command: python, args: ['-c', selfContained ? IMPORT_ONLY_CHECK : IMPORT_CHECK, pkg.distribution], cwd: root };
  if (selfContained) {
    // From the index alone, as its landing page says: no other index, so nothing can come from elsewhere.
    if (installer === 'pip') {
      return [
        { what: 'venv', command: options.python, args: ['-m', 'venv', venv], cwd: root },
        { what: 'pip install', command: python, args: ['-m', 'pip', 'install', requirement, '--index-url', options.indexUrl], cwd: root },
        importCheck,
      ];
    }
    if (!options.uv) throw new VerifyError('uv is needed to verify with uv (the tools venv provides it).');
    return [
      { what: 'uv venv', command: options.uv, args: ['venv', '--python', options.python, venv], cwd: root },
      { what: 'uv pip install', command: options.uv, args: ['pip', 'install', '--python', python, requirement, '--index-url', options.indexUrl], cwd: root },
      importCheck,
    ];
  }
  if (installer === 'pip') {
    return [
      { what: 'venv', command: options.python, args: ['-m', 'venv', venv], cwd: root },
      // pip merges its indexes (no per-package source), so the variant is installed from the published
      // index alone first; the second install then only adds its dependencies, torch from the CPU index.
      { what: 'pip install', command: python, args: ['-m', 'pip', 'install', '--no-deps', '--index-url', options.indexUrl, requirement], cwd: root },
      { what: 'pip install (dependencies)', command: python, args: ['-m', 'pip', 'install', '--index-url', options.dependenciesIndexUrl, '--extra-index-url', options.torchIndexUrl, requirement], cwd: root },
      importCheck,
    ];
  }
  if (!options.uv) throw new VerifyError('uv is needed to verify with uv (the tools venv provides it).');
  const project = join(root, 'project');
  return [
    { what: 'uv venv', command: options.uv, args: ['venv', '--python', options.python, venv], cwd: root },
    { write: join(project, 'pyproject.toml'), text: uvProject(requirement, pkg.distribution, options) },
    // Run in the project folder: uv pip reads its [tool.uv] indexes from the pyproject.toml there.
    { what: 'uv pip install', command: options.uv, args: ['pip', 'install', '--python', python, '-r', 'pyproject.toml'], cwd: project },
    importCheck,
  ];
}

async function verifyOne(pkg: VerifyPackage, installer: Installer, options: VerifyOptions): Promise<VerifyResult> {
  const root = mkdtempSync(join(options.tempRoot ?? tmpdir(), `vllm-wheels-verify-${installer}-`));
  const secrets = urlSecrets([options.indexUrl, options.torchIndexUrl, options.dependenciesIndexUrl]);
  const timeoutMs = options.timeoutMs ?? 20 * 60_000;
  const emptyConfigDir = join(root, 'no-config');
  mkdirSync(emptyConfigDir);
  const env = installerEnv(options.env, { emptyConfigDir, pipNetwork: options.pipNetwork });
  try {
    let last: RunResult | undefined;
    for (const step of verifySteps(pkg, installer, options, root)) {
      if ('write' in step) {
        mkdirSync(dirname(step.write), { recursive: true });
        writeFileSync(step.write, step.text);
        continue;
      }
      options.log.info(`$ ${redact([step.command, ...step.args].join(' '), secrets)}`);
      try {
        last = await run(step.command, step.args, { cwd: step.cwd, env, timeoutMs, secrets, onLine: (line) => options.log.info(`  ${redact(line, secrets).replace(ANSI, '')}`) });
      } catch (e) {
        const tail = (e instanceof CommandError ? e.outputTail : (e as Error).message).replace(ANSI, '');
        return { variant: pkg.variant, installer, ok: false, summary: `${step.what} failed: ${reason(tail)}`, details: indent(tail) };
      }
    }
    return importResult(pkg, installer, last?.stdout ?? '', options.mode === 'self-contained');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** Stands for each check's temporary directory in a dry run. */
const TEMP_ROOT = '<temp dir>';

/**
 * What verifyInstalls would do, printed (each command with its cwd and the variables set or removed
 * for pip and uv, passwords in index URLs masked); runs and writes nothing.
 */
export function planVerifyInstalls(options: VerifyOptions): void {
  const secrets = urlSecrets([options.indexUrl, options.torchIndexUrl, options.dependenciesIndexUrl]);
  const env = envChanges(options.env, installerEnv(options.env, { emptyConfigDir: join(TEMP_ROOT, 'no-config'), pipNetwork: options.pipNetwork }));
  for (const pkg of options.packages) {
    for (const installer of options.installers) {
      options.log.info(`[dry-run] ${pkg.variant}: would install ${pkg.distribution}${pkg.version ? `==${pkg.version}` : ''} with ${installer} in a fresh ${TEMP_ROOT} (removed afterwards):`);
      for (const step of verifySteps(pkg, installer, options, TEMP_ROOT)) {
        if ('write' in step) {
          options.log.info(`[dry-run] would write ${step.write}:\n${redactUrlCredentials(redact(step.text, secrets))}`);
          continue;
        }
        // The import check's script is long; it is IMPORT_CHECK in src/lib/verify/verify.ts.
        const args = step.args.map((a) => (a === IMPORT_CHECK ? '<import check: import vllm, pick the CPU platform>' : a === IMPORT_ONLY_CHECK ? '<import check: import vllm and torch>' : a));
        options.log.info(formatPlannedCommand({ command: step.command, args, cwd: step.cwd, env, secrets }));
      }
    }
  }
}

function importResult(pkg: VerifyPackage, installer: Installer, stdout: string, importOnly = false): VerifyResult {
  const last = stdout.trim().split('\n').pop() ?? '';
  let report: { distribution?: string; torch?: string; platform?: string; device_type?: string };
  try {
    report = JSON.parse(last);
  } catch {
    return { variant: pkg.variant, installer, ok: false, summary: `import check printed no report: ${last.slice(0, 200)}` };
  }
  if (importOnly) {
    const summary = `${pkg.distribution} ${report.distribution}, torch ${report.torch} (imported)`;
    if (pkg.version && report.distribution !== pkg.version) return { variant: pkg.variant, installer, ok: false, summary: `installed ${report.distribution}, not ${pkg.version}` };
    return { variant: pkg.variant, installer, ok: true, summary };
  }
  const summary = `${pkg.distribution} ${report.distribution}, torch ${report.torch}, platform ${report.platform} (device ${report.device_type})`;
  if (report.device_type !== 'cpu') return { variant: pkg.variant, installer, ok: false, summary: `vLLM did not pick the CPU platform: ${summary}` };
  if (pkg.version && report.distribution !== pkg.version) return { variant: pkg.variant, installer, ok: false, summary: `installed ${report.distribution}, not ${pkg.version}` };
  return { variant: pkg.variant, installer, ok: true, summary };
}

/** The most telling line of a failure: the last error line, else the last line. */
function reason(tail: string): string {
  const lines = tail.split('\n').map((l) => l.trim()).filter(Boolean);
  const error = [...lines].reverse().find((l) => /^(ERROR|error|RuntimeError|ImportError|ModuleNotFoundError|\S*Error:)/.test(l) || /No solution found|not found|Because /.test(l));
  return (error ?? lines[lines.length - 1] ?? 'no output').slice(0, 300);
}

function indent(text: string): string {
  return text
    .split('\n')
    .slice(-20)
    .map((l) => `    ${l}`)
    .join('\n');
}

/** variant × installer -> ok / failed, as a plain-text table. */
export function formatVerifyTable(results: readonly VerifyResult[]): string {
  const installers = INSTALLERS.filter((i) => results.some((r) => r.installer === i));
  const variants = [...new Set(results.map((r) => r.variant))];
  const cell = (v: string, i: Installer) => {
    const r = results.find((x) => x.variant === v && x.installer === i);
    return r ? (r.ok ? 'ok' : `failed: ${r.summary}`) : '-';
  };
  const rows = [['variant', ...installers], ...variants.map((v) => [v, ...installers.map((i) => cell(v, i))])];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (c < r.length - 1 ? r[c].length : 0))));
  return rows.map((r) => r.map((text, c) => (c < r.length - 1 ? text.padEnd(widths[c]) : text)).join('  ')).join('\n');
}
