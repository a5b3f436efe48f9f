import { redactUrlCredentials } from './process/redact';

/** Where libraries report progress; executors pass one that prints, tests one that records. */
export interface Logger {
  /** A step of the work starts ("Cloning vLLM mirror"). */
  step(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  /** The work failed (printed once, by whoever gives up: an executor, the CLI). */
  error(message: string): void;
}

/**
 * Prints to the console (which Nx shows and keeps in its terminal-output cache), so every line has the
 * credentials of any URL in it masked: config URLs, commands and tool output alike.
 */
export const consoleLogger: Logger = {
  step: (m) => console.log(`\n> ${redactUrlCredentials(m)}`),
  info: (m) => console.log(redactUrlCredentials(m)),
  warn: (m) => console.warn(`WARNING: ${redactUrlCredentials(m)}`),
  error: (m) => console.error(`ERROR: ${redactUrlCredentials(m)}`),
};

export const silentLogger: Logger = { step: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** A logger that records every line (for tests and for dry-run transcripts). */
export function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    step: (m) => lines.push(`> ${m}`),
    info: (m) => lines.push(m),
    warn: (m) => lines.push(`WARNING: ${m}`),
    error: (m) => lines.push(`ERROR: ${m}`),
  };
}
