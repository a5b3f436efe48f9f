/**
 * The one base class of every error the plugin throws on purpose. `exitCode` is stable per class so
 * scripts can tell a config error from a failed build; `cause` keeps the lower-level error.
 */
export class VllmWheelsError extends Error {
  readonly exitCode: number = 1;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A config file is invalid: the message names the file, the field and what is allowed. */
export class ConfigError extends VllmWheelsError {
  override readonly exitCode = 2;
}

/** A required tool (git, python3, a compiler) is missing or unusable. */
export class ToolError extends VllmWheelsError {
  override readonly exitCode = 3;
}

/** A subprocess failed. */
export class CommandError extends VllmWheelsError {
  override readonly exitCode = 4;
  constructor(
    message: string,
    readonly command: string,
    readonly code: number | null,
    readonly outputTail: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A wheel (or zip) is malformed or cannot be made valid. */
export class WheelError extends VllmWheelsError {
  override readonly exitCode = 5;
}

/** Git repository or source checkout problems (bad ref, patch that does not apply, broken mirror). */
export class SourceError extends VllmWheelsError {
  override readonly exitCode = 6;
}
