import { normalizeName } from './names';

/**
 * The parts of a PEP 508 requirement (a METADATA `Requires-Dist` value) that version normalization
 * needs: the name, and each version specifier with its place in the text, so that one version can be
 * replaced and every other character kept (extras, spacing, parentheses, the marker).
 */
export interface ParsedRequirement {
  /** As written. */
  readonly name: string;
  /** A direct reference (`name @ url`) has no specifiers. */
  readonly url: boolean;
  readonly specifiers: readonly VersionSpecifier[];
}

export interface VersionSpecifier {
  readonly operator: '~=' | '===' | '==' | '!=' | '<=' | '>=' | '<' | '>';
  readonly version: string;
  /** Where `version` starts and ends in the requirement's text. */
  readonly start: number;
  readonly end: number;
}

const NAME = /^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)/;
const EXTRAS = /^\s*\[[^\]]*\]/;
const SPECIFIER = /^(\s*)(~=|===|==|!=|<=|>=|<|>)(\s*)([^\s,;)]+)(\s*)$/;

/** Parses a requirement; undefined when it does not start with a name or its specifiers are not PEP 440's. */
export function parseRequirement(text: string): ParsedRequirement | undefined {
  const name = NAME.exec(text);
  if (!name) return undefined;
  let pos = name[0].length;
  const extras = EXTRAS.exec(text.slice(pos));
  if (extras) pos += extras[0].length;
  const markerAt = text.indexOf(';', pos);
  const end = markerAt < 0 ? text.length : markerAt;
  let region = text.slice(pos, end);
  if (/^\s*@/.test(region)) return { name: name[1], url: true, specifiers: [] };
  // `name (==1.0)`: the older parenthesized form, still written by some build backends.
  const paren = /^(\s*)\(([^()]*)\)\s*$/.exec(region);
  if (paren) {
    pos += paren[1].length + 1;
    region = paren[2];
  }
  if (region.trim() === '') return { name: name[1], url: false, specifiers: [] };
  const specifiers: VersionSpecifier[] = [];
  let offset = pos;
  for (const part of region.split(',')) {
    const m = SPECIFIER.exec(part);
    if (!m) return undefined;
    const start = offset + m[1].length + m[2].length + m[3].length;
    specifiers.push({ operator: m[2] as VersionSpecifier['operator'], version: m[4], start, end: start + m[4].length });
    offset += part.length + 1;
  }
  return { name: name[1], url: false, specifiers };
}

/** `2.9.0+git1c57644d` -> `2.9.0`; a version without a local label is returned as it is. */
export function publicVersion(version: string): string {
  const plus = version.indexOf('+');
  return plus < 0 ? version : version.slice(0, plus);
}

export interface LocalPinRewrite {
  /** The requirement with its local pins replaced (the same text when none was). */
  readonly text: string;
  /** Why it cannot be rewritten (the set would not resolve, or the pin's meaning would change). */
  readonly problems: readonly string[];
}

/**
 * Rewrites the local-version pins of a requirement to the normalized versions of the set: `versions` maps
 * a normalized project name to its version in the set before and after normalization. `torch==2.9.0+gitX`
 * becomes `torch==2.9.0` when the set's torch is `2.9.0+gitX`. A local pin that the set cannot satisfy is
 * a problem, not left behind: a pin to another local version of a set member, to a project outside the
 * set, or with an operator other than `==`/`===`.
 */
export function rewriteLocalPins(text: string, versions: ReadonlyMap<string, { from: string; to: string }>): LocalPinRewrite {
  const parsed = parseRequirement(text);
  if (!parsed) return { text, problems: /\+/.test(text.split(';')[0]) ? [`cannot parse ${JSON.stringify(text)} to rewrite its local version`] : [] };
  const project = normalizeName(parsed.name);
  const member = versions.get(project);
  const problems: string[] = [];
  let out = text;
  // Right to left, so that earlier positions stay valid.
  for (const spec of [...parsed.specifiers].reverse()) {
    if (!spec.version.includes('+')) continue;
    if (spec.operator !== '==' && spec.operator !== '===') {
      problems.push(`${JSON.stringify(text)}: a local version can only be pinned with == (got ${spec.operator}${spec.version})`);
    } else if (!member) {
      problems.push(`${JSON.stringify(text)} pins the local version ${spec.version} of ${parsed.name}, which is not in the set being normalized`);
    } else if (spec.version.toLowerCase() !== member.from) {
      problems.push(`${JSON.stringify(text)} pins ${parsed.name} ${spec.version}, but the set's ${parsed.name} is ${member.from}`);
    } else {
      out = out.slice(0, spec.start) + member.to + out.slice(spec.end);
    }
  }
  return { text: problems.length ? text : out, problems };
}
