import { createHash } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import type { Logger } from '../log';
import { chooseProxy, describeProxy } from '../net';
import { envChanges, formatPlannedCommand } from '../process';
import { parseWheelFileName } from '../wheel';
import { describeCredentials, missingTokenMessage, REPOSITORY_URL, uploadCredentials } from './credentials';
import { PublishError } from './errors';
import { pypiRefusals, twineCheckRefusal, type WheelFacts } from './refusals';
import { hasPypiRules, targetLabel, type UploadTarget } from './repository';
import { lookupPublished, type PublishedState } from './simple-index';
import { twineCheck, twineCheckArgs, twineEnv, twineUpload, twineUploadArgs } from './twine';

export interface PublishWheelOptions {
  readonly wheel: string;
  /** The distribution's name (the project on the index). */
  readonly project: string;
  readonly target: UploadTarget;
  readonly maxFileSizeMiB: number;
  /** For messages: wheel.json relative to the workspace, and the Nx project. */
  readonly configFile: string;
  readonly variant: string;
  /** twine from the tools venv (resolved lazily: a dry run of a refused wheel needs none). */
  readonly twine: () => Promise<string>;
  readonly cwd: string;
  /** The user's environment: the token, TWINE_USERNAME, proxies and certificates. */
  readonly env: Record<string, string | undefined>;
  readonly log: Logger;
  readonly dryRun: boolean;
  readonly fetch?: typeof fetch;
}

export type PublishOutcome = 'uploaded' | 'already-published' | 'dry-run';

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 21 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Publishes one wheel: refuse what PyPI would reject (PyPI and TestPyPI only), look the file up on the
 * repository's simple index (same name and sha256: nothing to do; same name, other bytes: an error,
 * a published file never changes), then `twine upload`. A dry run does everything but the upload.
 */
export async function publishWheel(options: PublishWheelOptions): Promise<PublishOutcome> {
  const { target, log } = options;
  const fileName = basename(options.wheel);
  const facts: WheelFacts = { fileName, name: parseWheelFileName(fileName), size: statSync(options.wheel).size };
  const sha256 = await sha256File(options.wheel);
  const label = targetLabel(target);
  let twinePath: Promise<string> | undefined;
  const twineProgram = () => (twinePath ??= options.twine()); // resolved (and the tools venv made) once
  log.step(`${options.variant}: ${fileName} (${facts.size} bytes, sha256 ${sha256}) -> ${target.uploadUrl}`);

  const { credentials, ignored } = uploadCredentials(target.uploadCredentials, options.env);
  if (credentials) {
    const described = describeCredentials(credentials);
    log.info(`${described[0].toUpperCase()}${described.slice(1)} (user ${credentials.username}).`);
    const are = ignored.length > 1 ? 'are' : 'is';
    if (ignored.length && credentials.source === REPOSITORY_URL) log.warn(`${ignored.join(', ')} ${are} also set and not used: the credentials in ${REPOSITORY_URL} come first.`);
    else if (ignored.length) log.warn(`${ignored.join(', ')} ${are} also set, to another value, and not used: ${credentials.source} comes first.`);
  } else if (!options.dryRun) {
    throw new PublishError(missingTokenMessage(target.uploadUrl));
  }

  if (hasPypiRules(target)) {
    const ctx = { configFile: options.configFile, variant: options.variant, maxFileSizeMiB: options.maxFileSizeMiB, label };
    const refusals = pypiRefusals(facts, ctx);
    const twine = await twineProgram();
    let findings: string | undefined;
    if (options.dryRun && !existsSync(twine)) {
      // The check only reads the wheel, so a dry run runs it when twine is there; here it is not yet.
      log.info(formatPlannedCommand({ command: twine, args: twineCheckArgs(options.wheel), cwd: options.cwd, env: envChanges(options.env, twineEnv(options.env)) }));
      log.info('[dry-run] twine is not installed yet (see the tools venv above): the check is not run now.');
    } else {
      findings = await twineCheck(options.wheel, { twine, cwd: options.cwd, env: options.env, log });
    }
    if (findings) refusals.push(twineCheckRefusal(findings, ctx));
    if (refusals.length) {
      throw new PublishError(`${fileName} is not uploaded: ${label} would reject it.\n${refusals.map((r) => `  - ${r}`).join('\n')}`);
    }
    log.info(`${label}'s checks pass: public version, ${facts.name.platformTag}, ${facts.size} bytes <= ${options.maxFileSizeMiB} MiB, twine check --strict.`);
  }

  const lookup = () =>
    lookupPublished({
      indexUrl: target.indexUrl,
      project: options.project,
      filename: fileName,
      env: options.env,
      fetch: options.fetch,
      ...(target.indexCredentials && { credentials: target.indexCredentials }),
      // A private index may want the same credentials; only ever sent to the upload server's own origin.
      ...(credentials && target.kind === 'other' ? { auth: { username: credentials.username, password: credentials.password, origin: new URL(target.uploadUrl).origin } } : {}),
    });
  const proxy = options.fetch ? undefined : chooseProxy(target.indexUrl, options.env);
  log.info(`Checking ${target.indexUrl} for ${fileName}${proxy ? ` through ${describeProxy(proxy)}` : ''}…`);
  let published: PublishedState;
  try {
    published = await lookup();
  } catch (e) {
    if (!options.dryRun || !(e instanceof PublishError)) throw e;
    log.warn(`${e.message} (a real run stops here)`);
    published = { state: 'absent' };
  }
  if (published.state === 'absent' && published.note) log.info(published.note);
  if (published.state === 'present') return alreadyThere(published, sha256, fileName, target, log);

  if (options.dryRun) {
    log.info(
      `[dry-run] would upload ${options.wheel}\n  file     ${fileName}\n  size     ${facts.size} bytes\n  sha256   ${sha256}\n  to       ${target.uploadUrl} (${label})\n` +
        `  as       ${credentials ? `${credentials.username}, ${describeCredentials(credentials)}` : '(no token set: PYPI_TOKEN, TWINE_PASSWORD or UV_PUBLISH_TOKEN is needed)'}`,
    );
    const child = twineEnv(options.env, credentials);
    // The credentials are shown (masked) even when the user's variable already had that name and value.
    const env = { ...(credentials && { TWINE_USERNAME: child.TWINE_USERNAME, TWINE_PASSWORD: child.TWINE_PASSWORD }), ...envChanges(options.env, child) };
    log.info(formatPlannedCommand({ command: await twineProgram(), args: twineUploadArgs(options.wheel, target), cwd: options.cwd, env, secrets: credentials ? [credentials.password] : [] }));
    return 'dry-run';
  }
  const twine = await twineProgram();
  log.info(`Uploading with twine to ${target.uploadUrl}…`);
  const result = await twineUpload(options.wheel, target, credentials!, { twine, cwd: options.cwd, env: options.env, log });
  if (result !== 'uploaded') {
    // Already there (uploaded by someone else meanwhile), or a real refusal: the index tells.
    const now = await lookup();
    if (now.state === 'present') return alreadyThere(now, sha256, fileName, target, log);
    throw new PublishError(result.rejected);
  }
  log.info(`Uploaded ${fileName} to ${target.uploadUrl}.`);
  return 'uploaded';
}

function alreadyThere(published: { sha256: string; url: string }, sha256: string, fileName: string, target: UploadTarget, log: Logger): PublishOutcome {
  if (published.sha256 !== sha256) {
    throw new PublishError(
      `${fileName} is already published on ${target.indexUrl} with different contents (sha256 ${published.sha256} there, ${sha256} here). ` +
        'A published file never changes: give the new build a new version (wheel.json "version": { "suffix": ".post1" }) and publish that.',
    );
  }
  log.info(`${fileName} is already published (same sha256 ${sha256}): nothing uploaded.`);
  return 'already-published';
}
