import { VllmWheelsError } from '../errors';

/** The index cannot be built: a bad input wheel, a bad state file, or a published file that would change. */
export class IndexError extends VllmWheelsError {
  override readonly exitCode = 9;
}
