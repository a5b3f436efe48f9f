/** Replaces every occurrence of each secret (of 4+ characters) with "***". */
export function redact(text: string, secrets: readonly string[] | undefined): string {
  let out = text;
  for (const s of secrets ?? []) {
    if (s && s.length >= 4) out = out.split(s).join('***');
  }
  return out;
}
