import { isSecretVariable, redact, redactUrlCredentials } from './process';

/** Deeper chains are cut: a cause that points back at itself must not hang the error report. */
const MAX_CAUSES = 10;

/**
 * What a failed step prints: the error's message, then each `cause` of its chain on its own line
 * ("  caused by: …", messages only, no stacks). Credentials are masked everywhere: the values of the
 * environment's secret variables (tokens, passwords, AWS keys) and the userinfo of URLs, since a
 * lower-level error (an SDK's, a subprocess's) may quote either.
 */
export function describeFailure(error: unknown, env: Readonly<Record<string, string | undefined>>): string {
  const secrets = secretValues(env);
  const lines = [messageOf(error)];
  const seen = new Set<unknown>([error]);
  let current = causeOf(error);
  while (current !== undefined && !seen.has(current) && seen.size <= MAX_CAUSES) {
    seen.add(current);
    const message = messageOf(current);
    // A wrapper that only repeats its cause's message says nothing new.
    if (message !== lines[lines.length - 1]) lines.push(message);
    current = causeOf(current);
  }
  const [head, ...causes] = lines.map((line) => redactUrlCredentials(redact(line, secrets)));
  return [head, ...causes.map((cause) => `  caused by: ${cause.replace(/\n/g, '\n    ')}`)].join('\n');
}

/** The values of the variables whose names say they hold a credential (isSecretVariable). */
export function secretValues(env: Readonly<Record<string, string | undefined>>): string[] {
  return Object.entries(env)
    .filter((e): e is [string, string] => isSecretVariable(e[0]) && !!e[1])
    .map(([, value]) => value);
}

function causeOf(error: unknown): unknown {
  return error instanceof Error ? error.cause : undefined;
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message.trim() || error.name;
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(error);
}
