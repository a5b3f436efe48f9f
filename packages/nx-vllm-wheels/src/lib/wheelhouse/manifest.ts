import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { z } from 'zod';
import { ToolError } from '../errors';

/** Where a wheel of the wheelhouse came from: the base installed first, what was asked for, or what they need. */
export const WHEEL_ROLES = ['base', 'requested', 'dependency'] as const;
export type WheelRole = (typeof WHEEL_ROLES)[number];

export const MANIFEST_FILE = 'manifest.json';
/** `name==version` of every wheel: a pip constraints file that pins the next resolution to this one. */
export const CONSTRAINTS_FILE = 'constraints.txt';

const entrySchema = z.strictObject({
  file: z.string(),
  name: z.string(),
  version: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  role: z.enum(WHEEL_ROLES),
  /** Built here from an sdist (its bytes differ from build to build). */
  builtFromSdist: z.boolean(),
});

export const manifestSchema = z.strictObject({
  /** The interpreter the closure was resolved for: markers and wheel tags are this one's. */
  python: z.string(),
  files: z.array(entrySchema),
});

export type WheelhouseEntry = z.output<typeof entrySchema>;
export type WheelhouseManifest = z.output<typeof manifestSchema>;

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The manifest's text: entries in install order (base, requested, dependency), then by file name. */
export function serializeManifest(manifest: WheelhouseManifest): string {
  const order = (e: WheelhouseEntry) => WHEEL_ROLES.indexOf(e.role);
  const files = [...manifest.files].sort((a, b) => order(a) - order(b) || a.file.localeCompare(b.file));
  return `${JSON.stringify({ ...manifest, files }, null, 2)}\n`;
}

export function serializeConstraints(manifest: WheelhouseManifest): string {
  return `${manifest.files.map((e) => `${e.name}==${e.version}`).sort().join('\n')}\n`;
}

export function readManifest(path: string): WheelhouseManifest {
  try {
    return manifestSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
  } catch (e) {
    throw new ToolError(`${path} is not a wheelhouse manifest: ${(e as Error).message}`, { cause: e });
  }
}
