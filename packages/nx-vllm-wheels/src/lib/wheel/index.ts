/**
 * Wheels read, validated and rewritten the pypa way, streaming (no Nx here).
 */
export { WheelValidationError } from './problems';
export {
  normalizeName,
  isValidName,
  escapeName,
  isCanonicalVersion,
  nameProblem,
  versionProblem,
  parseWheelFileName,
  formatWheelFileName,
  distInfoDirName,
  dataDirName,
  splitMetadataDirName,
} from './names';
export type { WheelFileName } from './names';
export { parseRecord, parseHash, formatHash, serializeRecord, createRecordHasher, hashBytes } from './record';
export type { RecordEntry, RecordHash, RecordHashAlgorithm, RecordIssue, ParsedRecord } from './record';
export { parseHeaders, serializeHeaders, getHeader, getHeaders, updateHeaders, headerProblem } from './metadata';
export type { HeaderDocument, HeaderField, HeaderUpdates } from './metadata';
export { dosDateTimeFromEpoch, epochFromDosDateTime, DOS_EPOCH, METHOD_STORED, METHOD_DEFLATED, DEFAULT_INFLATE_LIMITS } from './zip-format';
export type { DosDateTime, ZipMethod, InflateLimits } from './zip-format';
export { ZipReader } from './zip-read';
export type { ZipEntry, ZipReaderOptions } from './zip-read';
export { ZipWriter } from './zip-write';
export type { ZipData, ZipWriterOptions, AddDataOptions, RawSource, WrittenEntry } from './zip-write';
export { openWheel, validateWheel } from './validate';
export type { WheelInfo, OpenWheel } from './validate';
export { renameWheel } from './rename';
export { stripLocalVersions } from './local-versions';
export type { StripLocalVersionsOptions, StrippedWheel } from './local-versions';
export { parseRequirement, publicVersion, rewriteLocalPins } from './requires-dist';
export type { ParsedRequirement, VersionSpecifier, LocalPinRewrite } from './requires-dist';
export type { RenameWheelOptions, RenamedWheel } from './rename';
export { analyzePlatform, analyzePlatformCommand, choosePlatformTag, ANALYZE_WHEEL_SCRIPT, TORCH_LIBRARY_EXCLUDES } from './platform-tag';
export type { AnalyzePlatformOptions, PlatformAnalysis, PlatformTagChoice, PlatformTagPolicy, ExternalLibrary, ElfInfo, PolicyInfo } from './platform-tag';
export { mergeEntryPoints, entryPointProblem } from './entry-points';
export { compareVersions } from './version-order';
export type { EntryPoints } from './entry-points';
