import { ToolError } from '../errors';
import { run, which } from '../process';

export interface PythonInterpreter {
  /** Absolute path of the interpreter. */
  path: string;
  /** Full version, e.g. "3.11.7". */
  version: string;
}

async function versionOf(path: string, env: Record<string, string | undefined>): Promise<string | undefined> {
  try {
    const { stdout } = await run(path, ['-c', 'import sys; print("%d.%d.%d" % sys.version_info[:3])'], { cwd: '/', env, timeoutMs: 30_000 });
    return stdout.trim();
  } catch {
    return undefined;
  }
}

/** Finds a Python interpreter of the wanted minor version ("3.11"): python3.11 first, then python3. */
export async function findPython(minor: string, env: Record<string, string | undefined>): Promise<PythonInterpreter> {
  const tried: string[] = [];
  for (const name of [`python${minor}`, 'python3']) {
    const path = which(name, env);
    if (!path) {
      tried.push(`${name} (not found)`);
      continue;
    }
    const version = await versionOf(path, env);
    if (version && (version === minor || version.startsWith(`${minor}.`))) return { path, version };
    tried.push(`${name} (${version ?? 'does not run'})`);
  }
  throw new ToolError(
    `Python ${minor} is required (torch.json "python") but was not found on PATH: tried ${tried.join(', ')}. Install python${minor} or change "python" in torch.json.`,
  );
}
