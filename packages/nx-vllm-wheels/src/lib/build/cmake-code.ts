/** CMake code without its comments (`# …` and `#[[ … ]]`), strings kept (a `#` inside quotes is text). */
export function cmakeCode(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c === '#') {
      const bracket = /^#\[(=*)\[/.exec(text.slice(i));
      const end = bracket ? text.indexOf(`]${bracket[1]}]`, i) : -1;
      const stop = bracket && end !== -1 ? end + bracket[1].length + 2 : text.indexOf('\n', i);
      if (stop === -1) break;
      out += text.slice(i, stop).replace(/[^\n]/g, ' '); // keeps line numbers
      i = stop - 1;
    } else {
      out += c;
    }
  }
  return out;
}

/** The same code with the contents of every quoted argument blanked (same length): for finding commands, not reading them. */
export function withoutStrings(code: string): string {
  return code.replace(/"(?:[^"\\]|\\.)*"/g, (q) => `"${' '.repeat(q.length - 2)}"`);
}
