import type { WheelFileName } from '../wheel';

export interface WheelFacts {
  readonly fileName: string;
  readonly name: WheelFileName;
  readonly size: number;
}

export interface RefusalContext {
  /** wheel.json, relative to the workspace (named in the fixes). */
  readonly configFile: string;
  /** The Nx project, for the rebuild command. */
  readonly variant: string;
  readonly maxFileSizeMiB: number;
  /** "PyPI" or "TestPyPI". */
  readonly label: string;
}

const MIB = 1024 * 1024;

function mib(bytes: number): string {
  return `${(bytes / MIB).toFixed(1)} MiB`;
}

/**
 * What PyPI would reject about this file, each with the reason and the fix (empty when nothing).
 * Pure: `twine check --strict` (the metadata) is run separately.
 */
export function pypiRefusals(wheel: WheelFacts, ctx: RefusalContext): string[] {
  const out: string[] = [];
  const rebuild = `rebuild with \`nx run ${ctx.variant}:wheel\``;
  const local = wheel.name.version.indexOf('+');
  if (local >= 0) {
    out.push(
      `version ${wheel.name.version} has a local label ("+${wheel.name.version.slice(local + 1)}"), and ${ctx.label} refuses local versions (PEP 440). ` +
        `Fix: set "version": { "local": "strip" } in ${ctx.configFile} (the default) and ${rebuild}.`,
    );
  }
  const linuxTags = wheel.name.platformTag.split('.').filter((t) => t.startsWith('linux_'));
  if (linuxTags.length) {
    out.push(
      `platform tag ${linuxTags.join('.')}: ${ctx.label} accepts Linux wheels only with a manylinux or musllinux tag. ` +
        `Fix: set "platformTag": "auto" in ${ctx.configFile} (the honest manylinux tag auditwheel computes) and ${rebuild}; ` +
        'a library the wheel needs from the system goes in "systemLibraries".',
    );
  }
  const limit = ctx.maxFileSizeMiB * MIB;
  if (wheel.size > limit) {
    out.push(
      `the file is ${mib(wheel.size)} (${wheel.size} bytes), over the ${ctx.maxFileSizeMiB} MiB per-file limit of ${ctx.label}. ` +
        `Fix: ask ${ctx.label} for a larger limit for this project (https://github.com/pypi/support, "File Limit Request"), ` +
        `then set "publish": { "maxFileSizeMiB": <the granted limit> } in ${ctx.configFile}.`,
    );
  }
  return out;
}

/** The refusal for failed `twine check --strict` output. */
export function twineCheckRefusal(output: string, ctx: RefusalContext): string {
  const findings = output
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^Checking\b/.test(l))
    .join('\n    ');
  return (
    `\`twine check --strict\` fails, so ${ctx.label} would reject the metadata:\n    ${findings}\n  ` +
    `Fix: correct "metadata" in ${ctx.configFile} or the variant's README.md (its long description) and ${'`'}nx run ${ctx.variant}:wheel${'`'} again.`
  );
}
