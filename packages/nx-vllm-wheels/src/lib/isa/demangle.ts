import { VllmWheelsError } from '../errors';
import { run, which } from '../process';

export interface DemangleOptions {
  env: Record<string, string | undefined>;
  cwd: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

/**
 * C++ symbols (`_ZN4vllm…`, also `…@plt` and `….cold` clones) demangled by one `c++filt` run (binutils,
 * like objdump), as a map from each given symbol to its readable form. Only for messages: when c++filt
 * is missing or fails, symbols map to themselves.
 */
export async function demangle(symbols: readonly string[], options: DemangleOptions): Promise<Map<string, string>> {
  const result = new Map(symbols.map((s) => [s, s]));
  const mangled = [...new Set(symbols.filter((s) => s.startsWith('_Z') && !s.includes('\n')))];
  if (mangled.length === 0 || !which('c++filt', options.env)) return result;
  try {
    const { stdout } = await run('c++filt', [], { ...options, input: `${mangled.join('\n')}\n` });
    const lines = stdout.split('\n');
    if (lines.length >= mangled.length) mangled.forEach((s, i) => result.set(s, lines[i] || s));
  } catch (e) {
    if (!(e instanceof VllmWheelsError)) throw e;
    // Readable names are a convenience; the mangled ones are still exact.
  }
  return result;
}
