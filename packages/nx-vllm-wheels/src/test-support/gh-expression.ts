/**
 * An evaluator for the part of GitHub Actions' expression language the generated workflow uses
 * (literals, context paths, `!`, `==`, `!=`, `&&`, `||`, parentheses, startsWith, contains, fromJSON), with GitHub's rules:
 * `&&`/`||` return an operand, not a boolean; falsy is false, 0, '', null; string comparison ignores case,
 * mixed types compare as numbers; a missing property (an unset secret) is null. Tests use it to check what a workflow's expressions give per event.
 */
export type Context = Record<string, unknown>;
type Value = unknown;

const TOKEN = /\s*(?:(\d+(?:\.\d+)?)|'((?:[^']|'')*)'|([A-Za-z_][\w-]*(?:\.[\w-]+|\[\*\])*)|(==|!=|&&|\|\||!|\(|\)|,))/y;

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  const src = text.trimEnd();
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < src.length) {
    const start = TOKEN.lastIndex;
    const m = TOKEN.exec(src);
    if (!m) throw new Error(`Cannot read the expression ${JSON.stringify(text)} at ${start}`);
    tokens.push(m[0].trim());
  }
  return tokens;
}

const truthy = (v: Value) => !(v === false || v === 0 || v === '' || v === null || v === undefined || Number.isNaN(v));
/** GitHub's loose equality: strings ignore case; values of different types are compared as numbers (null and '' are 0). */
function equal(a: Value, b: Value): boolean {
  a ??= null;
  b ??= null;
  if (typeof a === 'string' && typeof b === 'string') return a.toLowerCase() === b.toLowerCase();
  if (typeof a === typeof b) return a === b;
  const num = (v: Value) => (v === null ? 0 : typeof v === 'boolean' ? Number(v) : typeof v === 'string' ? (v.trim() === '' ? 0 : Number(v)) : Number.NaN);
  return num(a) === num(b);
}

export function evaluate(expression: string, context: Context): Value {
  const tokens = tokenize(expression);
  let i = 0;
  const peek = () => tokens[i];
  const take = (t?: string) => {
    const tok = tokens[i++];
    if (t !== undefined && tok !== t) throw new Error(`Expected ${t} in ${expression}, got ${tok}`);
    return tok;
  };
  const primary = (): Value => {
    const tok = take();
    if (tok === '(') {
      const v = or();
      take(')');
      return v;
    }
    if (tok === '!') return !truthy(primary());
    if (tok.startsWith("'")) return tok.slice(1, -1).replace(/''/g, "'");
    if (/^\d/.test(tok)) return Number(tok);
    if (tok === 'true' || tok === 'false') return tok === 'true';
    if (tok === 'null') return null;
    if (peek() === '(') {
      take('(');
      const args: Value[] = [];
      while (peek() !== ')') {
        args.push(or());
        if (peek() === ',') take(',');
      }
      take(')');
      if (tok === 'startsWith') return String(args[0] ?? '').toLowerCase().startsWith(String(args[1] ?? '').toLowerCase());
      if (tok === 'fromJSON') return JSON.parse(String(args[0])) as Value;
      // An array contains an equal item (GitHub's loose equality); a string contains a substring, ignoring case.
      if (tok === 'contains') return Array.isArray(args[0]) ? args[0].some((x) => equal(x, args[1])) : String(args[0] ?? '').toLowerCase().includes(String(args[1] ?? '').toLowerCase());
      throw new Error(`Unknown function ${tok}`);
    }
    return tok.split('.').reduce<Value>((v, k) => (v && typeof v === 'object' ? ((v as Record<string, Value>)[k] ?? null) : null), context);
  };
  const comparison = (): Value => {
    let v = primary();
    while (peek() === '==' || peek() === '!=') {
      const op = take();
      const r = primary();
      v = op === '==' ? equal(v, r) : !equal(v, r);
    }
    return v;
  };
  const and = (): Value => {
    let v = comparison();
    while (peek() === '&&') {
      take();
      const r = comparison();
      v = truthy(v) ? r : v;
    }
    return v;
  };
  const or = (): Value => {
    let v = and();
    while (peek() === '||') {
      take();
      const r = and();
      v = truthy(v) ? v : r;
    }
    return v;
  };
  const value = or();
  if (i !== tokens.length) throw new Error(`Unexpected ${tokens[i]} in ${expression}`);
  return value;
}

/** A workflow value: `${{ e }}` alone gives e's value; text around expressions gives a string. */
export function evaluateTemplate(template: string, context: Context): Value {
  const whole = /^\$\{\{(.*)\}\}$/s.exec(template);
  if (whole && !whole[1].includes('}}')) return evaluate(whole[1], context);
  return template.replace(/\$\{\{(.*?)\}\}/g, (_, e: string) => String(evaluate(e, context) ?? ''));
}
