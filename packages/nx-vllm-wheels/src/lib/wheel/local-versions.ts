import { basename } from 'node:path';
import { WheelError } from '../errors';
import { getHeader, getHeaders } from './metadata';
import { normalizeName } from './names';
import { WheelValidationError } from './problems';
import { renameWheel } from './rename';
import { publicVersion, rewriteLocalPins } from './requires-dist';
import { openWheel } from './validate';
import type { InflateLimits } from './zip-format';

export interface StripLocalVersionsOptions {
  /** The set: wheels that may pin each other's local versions (ROCm's torch, triton, torchvision, amdsmi). */
  readonly wheels: readonly string[];
  /** Where the normalized wheels are written (see renameWheel: each written to a temp file, renamed into place). */
  readonly outputDir: string;
  readonly limits?: InflateLimits;
  /** Called before each wheel is rewritten (progress: a real torch is gigabytes). */
  readonly onWheel?: (wheel: { readonly input: string; readonly from: string; readonly to: string }) => void;
  readonly signal?: AbortSignal;
}

export interface StrippedWheel {
  readonly input: string;
  /** The normalized wheel (outputDir joined with fileName). */
  readonly path: string;
  readonly fileName: string;
  /** METADATA Name. */
  readonly distribution: string;
  /** The version before (`2.9.0+git1c57644d`) and after (`2.9.0`). */
  readonly from: string;
  readonly to: string;
  /** Requires-Dist values whose local pins were rewritten. */
  readonly requirements: readonly { readonly from: string; readonly to: string }[];
}

interface Planned {
  readonly input: string;
  readonly distribution: string;
  readonly project: string;
  readonly from: string;
  readonly to: string;
  readonly requiresDist: readonly string[];
}

/**
 * Strips the local version label from every wheel of a set (`torch-2.9.0+git1c57644d` -> `torch-2.9.0`:
 * file name, .dist-info and .data, METADATA Version, RECORD) and rewrites every `Requires-Dist` that pins
 * a set member's local version to its new one (torchvision's `torch==2.9.0+git1c57644d` -> `torch==2.9.0`),
 * so that the set resolves as it did. One pass of renameWheel per wheel (validated first, unchanged members
 * copied raw): the same input gives the same bytes.
 *
 * Refused before anything is written, with every problem listed: two builds of one release in the set
 * (`torch 2.9.0+gitA` and `2.9.0+gitB`, or `2.9.0` beside `2.9.0+gitA`: they would publish one version
 * with two contents), and a local pin the normalized set could not satisfy (another build's version, a
 * project outside the set, an operator other than ==).
 */
export async function stripLocalVersions(options: StripLocalVersionsOptions): Promise<StrippedWheel[]> {
  const planned = await plan(options);
  const versions = new Map<string, { from: string; to: string }>();
  for (const p of planned) versions.set(p.project, { from: p.from, to: p.to });
  const problems: string[] = [...collisions(planned)];
  const rewrites = planned.map((p) => {
    const rows = p.requiresDist.map((text) => ({ from: text, ...rewriteLocalPins(text, versions) }));
    for (const row of rows) problems.push(...row.problems.map((why) => `${basename(p.input)}: Requires-Dist ${why}`));
    return rows.filter((r) => r.text !== r.from).length ? rows : undefined;
  });
  if (problems.length) throw new WheelError(`Cannot strip the local versions of this set of wheels; nothing was written:\n  ${problems.join('\n  ')}`);

  const out: StrippedWheel[] = [];
  for (const [i, p] of planned.entries()) {
    options.signal?.throwIfAborted();
    options.onWheel?.({ input: p.input, from: p.from, to: p.to });
    const rows = rewrites[i];
    const result = await renameWheel({
      input: p.input,
      outputDir: options.outputDir,
      distribution: p.distribution,
      version: p.to,
      ...(rows && { metadataUpdates: { 'Requires-Dist': rows.map((r) => r.text) } }),
      ...(options.limits && { limits: options.limits }),
      ...(options.signal && { signal: options.signal }),
    });
    out.push({
      input: p.input,
      path: result.path,
      fileName: result.fileName,
      distribution: p.distribution,
      from: p.from,
      to: p.to,
      requirements: (rows ?? []).filter((r) => r.text !== r.from).map((r) => ({ from: r.from, to: r.text })),
    });
  }
  return out;
}

/** Reads each wheel's METADATA (the file's structure checked; renameWheel checks every member after). */
async function plan(options: StripLocalVersionsOptions): Promise<Planned[]> {
  const problems: string[] = [];
  const planned: Planned[] = [];
  for (const input of options.wheels) {
    try {
      const wheel = await openWheel(input, { deferHashes: true, ...(options.limits && { limits: options.limits }) });
      await wheel.zip.close();
      const distribution = getHeader(wheel.metadata, 'Name')!;
      const from = getHeader(wheel.metadata, 'Version')!;
      planned.push({ input, distribution, project: normalizeName(distribution), from, to: publicVersion(from), requiresDist: getHeaders(wheel.metadata, 'Requires-Dist') });
    } catch (e) {
      if (e instanceof WheelValidationError) problems.push(...e.problems);
      else if (e instanceof WheelError || (e as NodeJS.ErrnoException).code) problems.push(`${input}: ${(e as Error).message}`);
      else throw e;
    }
  }
  if (problems.length) throw new WheelError(`Cannot strip the local versions of this set of wheels; nothing was written:\n  ${problems.join('\n  ')}`);
  return planned;
}

/** Two builds of one release in the set: the same project and public version, different local labels. */
function collisions(planned: readonly Planned[]): string[] {
  const byRelease = new Map<string, Planned[]>();
  for (const p of planned) {
    const key = `${p.project} ${p.to}`;
    byRelease.set(key, [...(byRelease.get(key) ?? []), p]);
  }
  const problems: string[] = [];
  for (const group of byRelease.values()) {
    const labels = [...new Set(group.map((p) => p.from))];
    if (labels.length < 2) continue;
    const { distribution, to } = group[0];
    problems.push(
      `${distribution} ${to} would come from ${labels.length} different builds (${group.map((p) => `${basename(p.input)} is ${p.from}`).join(', ')}): ` +
        `one version cannot be published with two contents; keep one build's wheels`,
    );
  }
  return problems;
}
