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

/**
 * The interpreter a command (a path, or a name looked up on env's PATH) runs: its real executable
 * (`sys.executable`, so a pyenv shim resolves to the interpreter it starts) and full version.
 */
export async function describePython(command: string, env: Record<string, string | undefined>): Promise<PythonInterpreter> {
  const path = command.includes('/') ? command : which(command, env);
  if (!path) throw new ToolError(`Python interpreter ${command} was not found on PATH (${env.PATH ?? 'unset'}).`);
  let stdout: string;
  try {
    ({ stdout } = await run(path, ['-c', 'import sys; print(sys.executable); print("%d.%d.%d" % sys.version_info[:3])'], { cwd: '/', env, timeoutMs: 30_000 }));
  } catch (e) {
    throw new ToolError(`Python interpreter ${path} does not run: ${(e as Error).message}`, { cause: e });
  }
  const [executable, version] = stdout.trim().split('\n');
  return { path: executable || path, version };
}

/** Finds a Python interpreter of the wanted minor version ("3.11"): python3.11 first, then python3. */
export async function findPython(minor: string, env: Record<string, string | undefined>, configFile = 'torch.json'): Promise<PythonInterpreter> {
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
    `Python ${minor} is required (${configFile} "python") but was not found on PATH: tried ${tried.join(', ')}. Install python${minor} or change "python" in ${configFile}.`,
  );
}
