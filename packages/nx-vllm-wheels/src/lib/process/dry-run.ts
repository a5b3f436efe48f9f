import { redact, redactUrlCredentials } from './redact';
import { formatCommand, shellQuote } from './run';

/**
 * What a dry run prints for each command it would run: the command line, its working directory and
 * the environment variables this plugin sets or removes for it. Never the whole inherited environment
 * (long, and it holds the user's tokens); secrets are masked in every part.
 */
export interface PlannedCommand {
  command: string;
  args: readonly string[];
  cwd: string;
  /**
   * The variables this plugin sets (a value) or removes (undefined) for the command, e.g.
   * `envChanges(userEnv, childEnv)`; everything else is inherited and not printed.
   */
  env?: Readonly<Record<string, string | undefined>>;
  /** Values masked wherever they appear (tokens, passwords in index URLs). */
  secrets?: readonly string[];
}

/** Variables whose value is a credential: printed as `NAME=***` whatever they hold. */
const SECRET_VARIABLE = /TOKEN|PASSWORD|PASSWD|SECRET|CREDENTIAL|(^|_)KEY(_|$)/i;
/** True for variable names that hold credentials (PYPI_TOKEN, TWINE_PASSWORD, AWS_SECRET_ACCESS_KEY…). */
export function isSecretVariable(name: string): boolean {
  return SECRET_VARIABLE.test(name);
}

/**
 * How `child` differs from `base`: variables set to another value (or added), and variables removed
 * (as undefined). What a dry run shows of a command's environment.
 */
export function envChanges(base: Readonly<Record<string, string | undefined>>, child: Readonly<Record<string, string | undefined>>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(child)) if (v !== undefined && base[k] !== v) out[k] = v;
  for (const [k, v] of Object.entries(base)) if (v !== undefined && child[k] === undefined) out[k] = undefined;
  return out;
}

/**
 * `K=V K2=V2 (removed: A B)`, values shell-quoted, credentials masked (by name, by value and in URLs);
 * `inherited, nothing set` when there is nothing to show.
 */
export function formatEnvChanges(env: Readonly<Record<string, string | undefined>>, secrets?: readonly string[]): string {
  const entries = Object.entries(env);
  const set = entries
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => `${k}=${isSecretVariable(k) ? '***' : mask(shellQuote(v), secrets)}`);
  const removed = entries.filter(([, v]) => v === undefined).map(([k]) => k);
  const parts = [...set, ...(removed.length ? [`(removed: ${removed.join(' ')})`] : [])];
  return parts.length ? parts.join(' ') : 'inherited, nothing set';
}

/**
 * The dry-run lines of one command (every executor prints its commands this way):
 *
 *     [dry-run] would run (cwd /path): git fetch --prune --tags origin
 *     [dry-run]   env: GIT_TERMINAL_PROMPT=0 GIT_CONFIG_NOSYSTEM=1 LC_ALL=C
 */
export function formatPlannedCommand(planned: PlannedCommand): string {
  const command = mask(formatCommand(planned.command, planned.args), planned.secrets);
  return `[dry-run] would run (cwd ${mask(planned.cwd, planned.secrets)}): ${command}\n[dry-run]   env: ${formatEnvChanges(planned.env ?? {}, planned.secrets)}`;
}

function mask(text: string, secrets: readonly string[] | undefined): string {
  return redactUrlCredentials(redact(text, secrets));
}
