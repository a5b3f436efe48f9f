import { ConfigError } from '../errors';
import type { X86Isa } from '../isa/model';

/** One variant of the old builder's build_config.json, as this plugin names it. */
export interface ImportedVariant {
  name: string;
  isa: X86Isa;
  description?: string;
}

export interface ImportedBuildConfig {
  python?: string;
  torchIndexUrl?: string;
  variants: ImportedVariant[];
  /** Every field not mapped, and what was done instead (max_jobs among them). */
  notes: string[];
}

const FLAGS = ['disable_avx512', 'enable_avx512vnni', 'enable_avx512bf16', 'enable_amxbf16'] as const;
const X86_PLATFORMS = new Set(['linux/amd64', 'amd64', 'x86_64', 'linux_x86_64', 'linux/x86_64', 'manylinux_x86_64']);
const PYTHON_KEYS = ['python_version', 'python'];
const TORCH_INDEX_KEYS = ['torch_index_url', 'torch_index', 'pytorch_index_url'];
const NAME = /^[a-z0-9][a-z0-9._-]*$/;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The ISA level the old builder's flags build: disable_avx512 is AVX2; otherwise the highest switch
 * turned on (the plugin's levels are cumulative: amxbf16 also turns on BF16 and VNNI, as the old
 * amxbf16 variant did).
 */
function isaOfFlags(flags: Record<(typeof FLAGS)[number], boolean>): X86Isa {
  if (flags.disable_avx512) return 'avx2';
  if (flags.enable_amxbf16) return 'amxbf16';
  if (flags.enable_avx512bf16) return 'avx512bf16';
  if (flags.enable_avx512vnni) return 'avx512vnni';
  return 'avx512';
}

/** Reads the old bash builder's build_config.json; refuses what it cannot read at all (naming file and field), reports what it does not map. */
export function readBuildConfig(file: string, text: string): ImportedBuildConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${file}: not valid JSON (${(e as Error).message}).`, { cause: e });
  }
  if (!isObject(json)) throw new ConfigError(`${file}: must be a JSON object with the fields build_config and variants.`);
  const notes: string[] = [];
  const problems: string[] = [];
  const out: ImportedBuildConfig = { variants: [], notes };

  for (const key of Object.keys(json)) if (key !== 'build_config' && key !== 'variants') notes.push(`${key}: not mapped (ignored).`);

  const defaults = json.build_config ?? {};
  if (!isObject(defaults)) problems.push('build_config: must be a JSON object');
  else {
    for (const [key, value] of Object.entries(defaults)) {
      if (PYTHON_KEYS.includes(key)) {
        const v = String(value);
        if (/^3\.\d{1,2}$/.test(v)) out.python = v;
        else problems.push(`build_config.${key}: must be a Python minor version such as "3.12"`);
      } else if (TORCH_INDEX_KEYS.includes(key)) {
        if (typeof value === 'string' && /^(https?|file):\/\//.test(value)) out.torchIndexUrl = value;
        else problems.push(`build_config.${key}: must be an http(s):// or file:// URL`);
      } else if (key === 'max_jobs') {
        notes.push(
          `build_config.max_jobs (${JSON.stringify(value)}): not written to any config. The number of compile jobs does not change the wheel, so it is not a build input (it would split the cache between machines); set MAX_JOBS=${JSON.stringify(value)} in the environment nx runs in (shell, CI job) instead.`,
        );
      } else notes.push(`build_config.${key}: not mapped (ignored).`);
    }
  }

  const variants = json.variants;
  if (!isObject(variants) || !Object.keys(variants).length) problems.push('variants: must be a JSON object with at least one variant');
  else {
    for (const [name, raw] of Object.entries(variants)) {
      const at = `variants.${name}`;
      if (!NAME.test(name)) {
        problems.push(`${at}: the variant name must be a lowercase distribution name (letters, digits, ".", "-", "_")`);
        continue;
      }
      if (!isObject(raw)) {
        problems.push(`${at}: must be a JSON object`);
        continue;
      }
      const flags = Object.fromEntries(FLAGS.map((f) => [f, false])) as Record<(typeof FLAGS)[number], boolean>;
      const rawFlags = raw.flags ?? {};
      if (!isObject(rawFlags)) problems.push(`${at}.flags: must be a JSON object of ${FLAGS.join(', ')}`);
      else {
        for (const [flag, value] of Object.entries(rawFlags)) {
          if (!(FLAGS as readonly string[]).includes(flag)) notes.push(`${at}.flags.${flag}: not mapped (ignored); the known flags are ${FLAGS.join(', ')}.`);
          else if (typeof value !== 'boolean') problems.push(`${at}.flags.${flag}: must be true or false`);
          else flags[flag as (typeof FLAGS)[number]] = value;
        }
      }
      if (flags.disable_avx512 && (flags.enable_avx512vnni || flags.enable_avx512bf16 || flags.enable_amxbf16)) {
        problems.push(`${at}.flags: disable_avx512 is true together with an AVX-512/AMX switch; a variant is one ISA level`);
        continue;
      }
      const platforms = raw.platforms;
      if (platforms !== undefined) {
        if (!Array.isArray(platforms) || platforms.some((p) => typeof p !== 'string')) {
          problems.push(`${at}.platforms: must be a JSON array of strings`);
          continue;
        }
        const others = platforms.filter((p) => !X86_PLATFORMS.has(p));
        if (others.length) notes.push(`${at}.platforms: ${others.join(', ')} not mapped (only x86_64 variants are built today).`);
        if (others.length === platforms.length) {
          notes.push(`${at}: not imported (no x86_64 platform).`);
          continue;
        }
      }
      for (const key of Object.keys(raw)) if (!['description', 'flags', 'platforms'].includes(key)) notes.push(`${at}.${key}: not mapped (ignored).`);
      const description = typeof raw.description === 'string' ? raw.description : undefined;
      if (raw.description !== undefined && description === undefined) problems.push(`${at}.description: must be a string`);
      out.variants.push({ name, isa: isaOfFlags(flags), ...(description ? { description } : {}) });
    }
  }
  if (problems.length) throw new ConfigError(`${file} is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  return out;
}
