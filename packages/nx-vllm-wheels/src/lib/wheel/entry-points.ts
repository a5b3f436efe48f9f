/**
 * entry_points.txt (an INI file: `[group]` sections of `name = object.reference` lines), merged with new
 * entry points. Existing sections, lines and comments are kept; a new entry replaces one of the same
 * name in the same group.
 */
export type EntryPoints = Readonly<Record<string, Readonly<Record<string, string>>>>;

export function mergeEntryPoints(text: string | undefined, add: EntryPoints): string {
  const lines = (text ?? '').split(/\r?\n/);
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  for (const [group, entries] of Object.entries(add)) {
    let start = lines.findIndex((l) => l.trim() === `[${group}]`);
    if (start === -1) {
      if (lines.length) lines.push('');
      lines.push(`[${group}]`);
      start = lines.length - 1;
    }
    let end = start + 1;
    while (end < lines.length && !/^\s*\[/.test(lines[end])) end++;
    for (const [name, value] of Object.entries(entries)) {
      const line = `${name} = ${value}`;
      const existing = lines.slice(start + 1, end).findIndex((l) => l.split('=')[0].trim() === name);
      if (existing !== -1) lines[start + 1 + existing] = line;
      else {
        // after the section's last non-blank line
        let at = end;
        while (at > start + 1 && lines[at - 1].trim() === '') at--;
        lines.splice(at, 0, line);
        end++;
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Entry point names and values as the packaging spec allows them (for early, clear errors). */
export function entryPointProblem(group: string, name: string, value: string): string | undefined {
  if (!/^[\w.-]+$/.test(group)) return `entry point group ${JSON.stringify(group)} is not a dotted name`;
  if (!/^[^=\s[\]][^=[\]]*$/.test(name) || name !== name.trim()) return `entry point name ${JSON.stringify(name)} may not contain "=", "[" or "]"`;
  if (!/^[\w.]+(:[\w.]+)?(\s*\[[^\]]*\])?$/.test(value)) return `entry point ${JSON.stringify(value)} is not "module:attribute"`;
  return undefined;
}
