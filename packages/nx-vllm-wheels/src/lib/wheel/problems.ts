import { WheelError } from '../errors';

/**
 * A wheel (or zip) failed validation. Every problem was collected before this was thrown, and each one
 * is a complete sentence naming the archive and the member, pypa/installer style:
 * "In dist/x.whl, hash / size of pkg/mod.py didn't match RECORD".
 */
export class WheelValidationError extends WheelError {
  constructor(
    readonly archive: string,
    readonly problems: readonly string[],
    options?: { cause?: unknown },
  ) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(`${archive} is not a valid wheel (${count}):\n${problems.map((p) => `  - ${p}`).join('\n')}`, options);
  }
}

/** Collects problems about one archive and throws them all at once. */
export class ProblemList {
  private readonly items: string[] = [];
  constructor(readonly archive: string) {}

  /** Adds "In <archive>, <text>". */
  add(text: string): void {
    this.items.push(`In ${this.archive}, ${text}`);
  }

  /** Adds problems that already name the archive (from a nested check). */
  addAll(problems: readonly string[]): void {
    this.items.push(...problems);
  }

  /** The problems so far, each naming the archive. */
  get all(): readonly string[] {
    return [...this.items];
  }

  get size(): number {
    return this.items.length;
  }

  throwIfAny(): void {
    if (this.items.length > 0) throw new WheelValidationError(this.archive, [...this.items]);
  }
}
