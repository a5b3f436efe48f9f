/**
 * Publishing wheels to a PyPI-compatible repository with twine (no Nx here): credentials from the
 * environment, what PyPI would refuse, and what the repository's simple index already has.
 */
export { PublishError } from './errors';
export { REPOSITORY_URL, TOKEN_VARIABLES, credentialsFromEnv, describeCredentials, missingTokenMessage, uploadCredentials } from './credentials';
export type { UploadCredentials, CredentialsLookup, TokenVariable } from './credentials';
export { resolveUploadTarget, hasPypiRules, targetLabel } from './repository';
export type { UploadTarget, RepositoryKind } from './repository';
export { lookupPublished, parseProjectPage, SIMPLE_ACCEPT, SIMPLE_JSON } from './simple-index';
export type { ListedFile, LookupOptions, PublishedState } from './simple-index';
export { pypiRefusals, twineCheckRefusal } from './refusals';
export type { WheelFacts, RefusalContext } from './refusals';
export { twineEnv, twineCheck, twineUpload, progressPrinter } from './twine';
export type { TwineOptions, UploadRejected } from './twine';
export { publishWheel, sha256File } from './publish';
export type { PublishWheelOptions, PublishOutcome } from './publish';
