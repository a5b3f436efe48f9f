import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { ConfigError, VllmWheelsError } from '../errors';
import { replaceDirAtomic, writeFileAtomic } from '../fs';
import { assertAuditOk, auditWheel, baselineName, objdumpCommand, objdumpFor, plannedDisassemblies } from '../isa';
import { formatPlannedCommand } from '../process';
import { ensureToolsVenv } from '../tools';
import {
  analyzePlatform,
  analyzePlatformCommand,
  choosePlatformTag,
  formatWheelFileName,
  type InflateLimits,
  parseWheelFileName,
  type PlatformTagChoice,
  type PlatformTagPolicy,
  renameWheel,
  TORCH_LIBRARY_EXCLUDES,
} from '../wheel';
import { stepHost } from './build-host';
import { cpuPlatformPlugin } from './cpu-platform-plugin';
import { rawDir, wheelsDir, wheelsIn, type StepContext, type VariantSpec } from './context';
import { auditRules, BUILD_INFO_FILE, readRawBuildInfo, type RawBuildInfo } from './raw-build-info';
import { applyVersionPolicy, type VersionInputs } from './version';

export function findRawWheel(dir: string, variant: string): string {
  const files = wheelsIn(dir) ?? [];
  if (files.length !== 1) {
    throw new VllmWheelsError(`Expected exactly one raw wheel in ${dir}, found ${files.length}. Run \`nx run ${variant}:build\` first.`);
  }
  return join(dir, files[0]);
}

/** The build's record of the commit time (SOURCE_DATE_EPOCH = the committer time): a nightly's version is made from it. */
export function versionInputs(info: Pick<RawBuildInfo, 'sourceDateEpoch'>, dir: string): VersionInputs {
  return { commitTime: info.sourceDateEpoch, commitTimeSource: join(dir, BUILD_INFO_FILE) };
}

/**
 * `<variant>:wheel`: the raw `vllm-…` wheel becomes the variant's distribution, in one streaming pass.
 * It is checked first by our own code (member names, symlinks, zip-bomb limits, tags, every member
 * against RECORD): nothing else, auditwheel included, reads a raw wheel that has not passed. Then it is
 * renamed everywhere it appears, versioned by wheel.json's policy, tagged with the honest manylinux
 * tag (auditwheel's analysis, torch's libraries excluded), its README as the long description, and a
 * vLLM platform plugin so the CPU platform survives the rename. Then the ISA audit, with the rules of the
 * build family the raw build recorded (build-info.json): the report goes beside the wheel, and a library
 * above its ceiling or a wheel below its floor fails the step with nothing written.
 */
export async function normalizeVariant(variant: VariantSpec, ctx: StepContext): Promise<string | undefined> {
  const outDir = wheelsDir(ctx, variant.name);
  if (ctx.dryRun) {
    await planNormalize(variant, ctx);
    return undefined;
  }
  const input = findRawWheel(rawDir(ctx, variant.name), variant.name);
  const buildInfo = readRawBuildInfo(rawDir(ctx, variant.name), variant.name);
  const rules = auditRules(buildInfo, variant);
  const raw = parseWheelFileName(input);
  const version = applyVersionPolicy(raw.version, variant.config.version, versionInputs(buildInfo, rawDir(ctx, variant.name)));
  const { distribution, isa } = variant.config;
  const plugin = cpuPlatformPlugin(distribution, isa);
  const [group, name, value] = plugin.entryPoint;
  ctx.log.step(`${variant.name}: checking ${basename(input)} (names, modes, sizes, tags, every member against RECORD)`);
  let written = '';
  await replaceDirAtomic(outDir, async (tmp) => {
    const result = await renameWheel({
      input,
      outputDir: tmp,
      distribution,
      version,
      metadataUpdates: metadataHeaders(variant),
      description: { text: readme(ctx, variant), contentType: 'text/markdown' },
      addMembers: [{ path: plugin.member, data: plugin.source }],
      entryPoints: { [group]: { [name]: value } },
      // auditwheel reads the raw wheel with Python's zipfile: only once our own checks have passed.
      platformTag: async () => {
        const tag = await platformTag(variant, input, ctx);
        ctx.log.step(`${variant.name}: ${raw.distribution} ${raw.version} -> ${distribution} ${version}, ${tag.tag}`);
        return tag.platformTags;
      },
      limits: inflateLimits(variant),
      sourceDateEpoch: buildInfo.sourceDateEpoch,
    });
    written = result.fileName;
    ctx.log.step(`${variant.name}: ISA audit (declared ${isa}; ${rules.description})`);
    const report = await auditWheel({
      wheel: result.path,
      declared: rules.declared,
      dispatch: rules.dispatch,
      dispatchedCode: rules.dispatchedCode,
      env: ctx.env,
      host: stepHost(ctx),
      timeoutMs: 30 * 60_000,
    });
    writeFileAtomic(join(tmp, `${result.fileName}.isa-audit.json`), `${JSON.stringify(report, null, 2)}\n`);
    assertAuditOk(report);
    for (const lib of report.libraries) ctx.log.info(`  ${lib.path}: highest ${lib.highest ?? baselineName(isa)}`);
  });
  ctx.log.info(`Wheel: ${join(outDir, written)}`);
  return join(outDir, written);
}

/** auditwheel's analysis of the (validated) raw wheel, held against wheel.json's platformTag policy. */
async function platformTag(variant: VariantSpec, input: string, ctx: StepContext): Promise<PlatformTagChoice> {
  const tools = await ensureToolsVenv({ cacheRoot: ctx.cache.root, groups: ['wheel'], env: ctx.env, log: ctx.log, dryRun: false });
  ctx.log.step(`${variant.name}: platform tag (auditwheel; torch's libraries and ${variant.config.systemLibraries.join(', ') || 'no system libraries'} excluded)`);
  const analysis = await analyzePlatform({
    wheel: input,
    toolsPython: tools.python,
    exclude: analysisExcludes(variant),
    env: ctx.env,
    timeoutMs: 10 * 60_000,
  });
  const tag = choosePlatformTag(analysis, variant.config.platformTag as PlatformTagPolicy);
  for (const warning of tag.warnings) ctx.log.warn(warning);
  return tag;
}

/** wheel.json's zip-bomb bounds, named in the refusal so that a genuine wheel can get through. */
export function inflateLimits(variant: { configFile: string; config: Pick<VariantSpec['config'], 'inflateLimits'> }): InflateLimits {
  const { maxInflatedGiB, maxCompressionRatio } = variant.config.inflateLimits;
  return { maxTotalBytes: Math.floor(maxInflatedGiB * 1024 ** 3), maxRatio: maxCompressionRatio, raiseWith: `${variant.configFile} "inflateLimits" (maxInflatedGiB, maxCompressionRatio)` };
}

function analysisExcludes(variant: VariantSpec): string[] {
  return [...TORCH_LIBRARY_EXCLUDES, ...variant.config.systemLibraries];
}

/** Stands for the directory the new wheel is written to (beside the output dir, swapped in when done). */
const TEMP_OUT = '<temp dir>';
/** Stands for the directory the ISA audit extracts each library to. */
const TEMP_AUDIT = '<audit temp dir>';

/**
 * The dry run of normalizeVariant: the tools venv's commands (when it is missing), the auditwheel
 * analysis and the objdump runs of the ISA audit with their cwd and env (normalize sets no variable:
 * they run in the caller's environment), and the files it would write. Reads the raw wheel when it is
 * there (its name, version and libraries); writes nothing.
 */
async function planNormalize(variant: VariantSpec, ctx: StepContext): Promise<void> {
  const inDir = rawDir(ctx, variant.name);
  const outDir = wheelsDir(ctx, variant.name);
  const { distribution, isa } = variant.config;
  const tools = await ensureToolsVenv({ cacheRoot: ctx.cache.root, groups: ['wheel'], env: ctx.env, log: ctx.log, dryRun: true });
  const built = existsSync(inDir);
  if (!built) ctx.log.info(`[dry-run] ${inDir} does not exist yet (\`nx run ${variant.name}:build\` writes it): its wheel's name is a placeholder below.`);
  const input = built ? findRawWheel(inDir, variant.name) : join(inDir, '<raw wheel>.whl');
  const raw = built ? parseWheelFileName(input) : undefined;
  const buildInfo = built ? readRawBuildInfo(inDir, variant.name) : undefined;
  const version = raw && buildInfo ? applyVersionPolicy(raw.version, variant.config.version, versionInputs(buildInfo, inDir)) : '<version>';
  const env = {}; // analyze_wheel.py, objdump and c++filt run in the caller's environment as it is

  ctx.log.info(formatPlannedCommand({ ...analyzePlatformCommand({ wheel: input, toolsPython: tools.python, exclude: analysisExcludes(variant) }), env }));
  const output = formatWheelFileName({
    distribution,
    version,
    pythonTag: raw?.pythonTag ?? '<python tag>',
    abiTag: raw?.abiTag ?? '<abi tag>',
    // "auto" takes the tag from the analysis; a fixed one is used when the analysis allows it.
    platformTag: variant.config.platformTag === 'auto' ? '<platform tag>' : variant.config.platformTag,
  });
  ctx.log.info(`[dry-run] would rename ${input} to ${distribution} ${version}, tagged by that analysis and wheel.json "platformTag": "${variant.config.platformTag}", as ${join(TEMP_OUT, output)}`);
  if (buildInfo) ctx.log.info(`[dry-run] ISA audit rules: ${auditRules(buildInfo, variant).description} (the family from ${join(inDir, BUILD_INFO_FILE)})`);
  else ctx.log.info(`[dry-run] ISA audit rules: by the build family \`nx run ${variant.name}:build\` records in ${BUILD_INFO_FILE}`);
  const { arch } = variant.config;
  const disassemblies = built ? await plannedDisassemblies(input, TEMP_AUDIT, { arch, host: stepHost(ctx) }) : undefined;
  if (disassemblies && disassemblies.length === 0) ctx.log.info(`[dry-run] ISA audit (declared ${isa}): ${basename(input)} has no shared library to disassemble`);
  for (const d of disassemblies ?? [{ member: '<each shared library>', ...plannedObjdump(join(TEMP_AUDIT, 'lib-<n>.so'), arch, stepHost(ctx)) }]) {
    ctx.log.info(`[dry-run] ISA audit (declared ${isa}) of ${d.member}, extracted to ${d.args[d.args.length - 1]}:`);
    ctx.log.info(formatPlannedCommand({ command: d.command, args: d.args, cwd: TEMP_AUDIT, env }));
  }
  ctx.log.info(`[dry-run] would write ${join(outDir, output)} and ${join(outDir, `${output}.isa-audit.json`)} (${TEMP_OUT} replaces ${outDir} as a whole)`);
}

function plannedObjdump(file: string, arch: VariantSpec['config']['arch'], host: string): { command: string; args: string[] } {
  const [command, args] = objdumpCommand(file, { arch, objdump: objdumpFor(arch, host) });
  return { command, args };
}

export function metadataHeaders(variant: { config: Pick<VariantSpec['config'], 'metadata'> }): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  const { summary, keywords, urls } = variant.config.metadata;
  if (summary) headers.Summary = summary;
  if (keywords.length) headers.Keywords = keywords.join(',');
  if (Object.keys(urls).length) headers['Project-URL'] = Object.entries(urls).map(([label, url]) => `${label}, ${url}`);
  return headers;
}

/** The variant's README.md (beside wheel.json) is its long description on PyPI. */
export function readme(ctx: StepContext, variant: Pick<VariantSpec, 'configFile'>): string {
  const file = resolve(ctx.workspaceRoot, dirname(variant.configFile), 'README.md');
  try {
    return readFileSync(file, 'utf8');
  } catch {
    throw new ConfigError(`${join(dirname(variant.configFile), 'README.md')} is missing: each variant's README is its long description on PyPI.`);
  }
}
