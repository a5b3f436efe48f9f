import { VllmWheelsError } from '../errors';

/** Publishing the index to S3 failed or was refused: the message names the object or file and why. */
export class S3PublishError extends VllmWheelsError {
  override readonly exitCode = 11;
}
