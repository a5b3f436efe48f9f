import { redact, run } from '../process';
import type { Logger } from '../log';
import { describeCredentials, type UploadCredentials } from './credentials';
import { PublishError } from './errors';
import type { UploadTarget } from './repository';

/** Variables of the user's environment that could steer twine elsewhere or leak into it; set explicitly or dropped. */
const DROPPED = /^(TWINE_|PYPI_TOKEN$|UV_PUBLISH_|FORCE_COLOR$|CLICOLOR_FORCE$)/;
/** Kept: twine's TLS settings (a private server's CA, a client certificate). */
const KEPT = new Set(['TWINE_CERT', 'TWINE_CLIENT_CERT']);

/**
 * twine's environment: the user's (proxies, certificates, HOME for .pypirc is harmless: the URL and
 * credentials are given) minus every other token variable, plus the credentials. The token travels in
 * TWINE_PASSWORD only, never in argv (visible in `ps`).
 */
export function twineEnv(userEnv: Record<string, string | undefined>, credentials?: UploadCredentials): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(userEnv)) if (!DROPPED.test(k) || KEPT.has(k)) env[k] = v;
  return {
    ...env,
    ...(credentials ? { TWINE_USERNAME: credentials.username, TWINE_PASSWORD: credentials.password } : {}),
    TWINE_NON_INTERACTIVE: '1',
    // No keyring lookups (a desktop keyring can block a CI job waiting for an unlock prompt).
    PYTHON_KEYRING_BACKEND: 'keyring.backends.null.Keyring',
    NO_COLOR: '1',
    PYTHONUNBUFFERED: '1',
  };
}

const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;
const PROGRESS = /^\s*\d+%/;

/**
 * Prints twine's output lines (colour codes stripped, secrets masked); its progress bar redraws many
 * times a second, so at most one progress line every `everyMs` (and the last, 100%).
 */
export function progressPrinter(log: Logger, secrets: readonly string[], everyMs = 5_000, now: () => number = Date.now): (line: string) => void {
  let last = -Infinity;
  return (raw: string) => {
    const line = redact(raw.replace(ANSI, ''), secrets).trimEnd();
    if (!line.trim()) return;
    if (PROGRESS.test(line)) {
      const done = /^\s*100%/.test(line);
      if (!done && now() - last < everyMs) return;
      last = now();
    }
    log.info(`  ${line.trim()}`);
  };
}

export interface TwineOptions {
  readonly twine: string;
  readonly cwd: string;
  readonly env: Record<string, string | undefined>;
  readonly log: Logger;
  readonly timeoutMs?: number;
}

/** `twine check --strict <wheel>`: undefined when it passes, else its findings. */
export async function twineCheck(wheel: string, options: TwineOptions): Promise<string | undefined> {
  const result = await run(options.twine, twineCheckArgs(wheel), {
    cwd: options.cwd,
    env: twineEnv(options.env),
    timeoutMs: options.timeoutMs ?? 5 * 60_000,
    allowFailure: true,
  });
  if (result.exitCode === 0) return undefined;
  return `${result.stdout}\n${result.stderr}`.replace(ANSI, '').trim();
}

/** `twine upload`'s arguments (the token is not among them: it travels in TWINE_PASSWORD). */
export function twineUploadArgs(wheel: string, target: UploadTarget): string[] {
  return ['upload', '--non-interactive', '--repository-url', target.uploadUrl, ...(target.kind !== 'other' ? ['--skip-existing'] : []), wheel];
}

/** `twine check`'s arguments. */
export function twineCheckArgs(wheel: string): string[] {
  return ['check', '--strict', wheel];
}

/** The server refused the file (HTTP 400/409): maybe because it is already there; the caller re-checks the index. */
export interface UploadRejected {
  readonly rejected: string;
}

/**
 * `twine upload --non-interactive` of one wheel, progress streamed. `--skip-existing` only for PyPI and
 * TestPyPI (twine refuses it elsewhere; the caller checks the index first anyway). Resolves with the
 * refusal when the server answers 400/409 (pypiserver says 400 or 409 for a file it has: a concurrent
 * upload, which the caller tells apart by the published sha256); throws PublishError with what failed
 * otherwise, the token never in it.
 */
export async function twineUpload(wheel: string, target: UploadTarget, credentials: UploadCredentials, options: TwineOptions): Promise<'uploaded' | UploadRejected> {
  const secrets = [credentials.password];
  const args = twineUploadArgs(wheel, target);
  const result = await run(options.twine, args, {
    cwd: options.cwd,
    env: twineEnv(options.env, credentials),
    timeoutMs: options.timeoutMs ?? 60 * 60_000,
    secrets,
    onLine: progressPrinter(options.log, secrets),
    allowFailure: true,
  });
  if (result.exitCode === 0) return 'uploaded';
  const output = redact(`${result.stdout}\n${result.stderr}`.replace(ANSI, ''), secrets);
  const status = /HTTPError:\s*(\d{3})\s*([^\n]*)/.exec(output);
  const code = status ? Number(status[1]) : undefined;
  const reason = status ? `HTTP ${status[1]} ${status[2].replace(/\s+from\s+\S+\s*$/, '').trim()}`.trim() : undefined;
  if (code === 401 || code === 403) {
    throw new PublishError(
      `Authentication refused by ${target.uploadUrl} (${reason}): the ${describeCredentials(credentials)} (user ${credentials.username}) was not accepted. ` +
        'Check that it is the right token for this repository and that it may upload to this project.',
    );
  }
  if (code === 409 || code === 400) return { rejected: `${target.uploadUrl} refused the file (${reason}):\n${tail(output)}` };
  if (/Connection ?refused|ConnectionError|Max retries exceeded|NewConnectionError|RemoteDisconnected|Connection aborted|timed out/i.test(output)) {
    throw new PublishError(`Upload to ${target.uploadUrl} failed: the server is unreachable or dropped the connection.\n${tail(output)}`);
  }
  throw new PublishError(`Upload to ${target.uploadUrl} failed${reason ? ` (${reason})` : ` (twine exited with ${result.exitCode})`}:\n${tail(output)}`);
}

function tail(text: string, n = 15): string {
  return text
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() && !PROGRESS.test(l))
    .slice(-n)
    .map((l) => `  ${l}`)
    .join('\n');
}
