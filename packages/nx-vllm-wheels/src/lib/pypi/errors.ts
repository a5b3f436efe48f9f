import { VllmWheelsError } from '../errors';

/** A wheel cannot be (or was not) published: refused before upload, refused by the server, or unreachable. */
export class PublishError extends VllmWheelsError {
  override readonly exitCode = 10;
}
