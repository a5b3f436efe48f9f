import { VllmWheelsError } from '../errors';

/** A published variant does not install, or does not import as vLLM's CPU build. */
export class VerifyError extends VllmWheelsError {
  override readonly exitCode = 12;
}
