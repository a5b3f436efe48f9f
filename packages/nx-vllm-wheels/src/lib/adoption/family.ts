import { existsSync } from 'node:fs';
import { buildFamily, CPU_EXTENSION_CMAKE } from '../build/commit-profile';
import { ConfigError } from '../errors';
import { commitState, readFileAtCommit } from '../git';
import type { Logger } from '../log';
import { familyOfRef } from './release';
import type { Family } from './templates';

/** The family the locked commit's cmake builds, when the mirror already has that commit; undefined otherwise (never fetches). */
export async function familyFromMirror(mirrorDir: string, commit: string | undefined, env: Record<string, string | undefined>, log: Logger): Promise<Family | undefined> {
  if (!commit || !existsSync(mirrorDir) || (await commitState(mirrorDir, commit, env, log)) !== 'present') return undefined;
  const cmake = await readFileAtCommit(mirrorDir, commit, CPU_EXTENSION_CMAKE, env, log);
  return cmake === undefined ? undefined : buildFamily(cmake, `${CPU_EXTENSION_CMAKE} at ${commit}`);
}

export interface FamilyChoice {
  family: Family;
  /** Where it came from, for the report. */
  from: string;
}

/**
 * The commit's cmake when the mirror has it; else --family; else the source's release tag (vLLM 0.17
 * unified the CPU build). A --family that contradicts the commit is refused: its flags would be refused
 * by the build's flag lint anyway, later and further from the cause.
 */
export function chooseFamily(input: { fromCommit?: Family; option?: Family; ref: string; configFile: string }): FamilyChoice {
  const { fromCommit, option, ref, configFile } = input;
  if (fromCommit) {
    if (option && option !== fromCommit) {
      throw new ConfigError(`--family=${option} contradicts the locked commit of ${configFile}: its ${CPU_EXTENSION_CMAKE} builds the "${fromCommit}" family. Leave --family out.`);
    }
    return { family: fromCommit, from: `the locked commit's ${CPU_EXTENSION_CMAKE}` };
  }
  if (option) return { family: option, from: '--family' };
  const byRef = familyOfRef(ref);
  if (byRef) return { family: byRef, from: `${configFile} "ref" ${ref} (vLLM >= 0.17 is unified)` };
  throw new ConfigError(
    `Cannot tell the build family of ${configFile} ("ref" ${ref} is not a release tag, and the mirror does not have its commit yet). Pass --family=isa-variants (vLLM <= 0.16) or --family=unified (vLLM >= 0.17), or run nx run <source>:checkout first.`,
  );
}
