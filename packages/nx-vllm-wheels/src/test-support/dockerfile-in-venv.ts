import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { run } from '../lib/process';

/** One instruction of a Dockerfile: its keyword and the rest of it (continuation lines joined). */
export interface Instruction {
  keyword: string;
  args: string;
}

export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    if (!pending && (/^\s*#/.test(raw) || !raw.trim())) continue;
    const line = raw.trimEnd();
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trim()} `;
      continue;
    }
    const whole = (pending + line.trim()).trim();
    pending = '';
    const m = /^(\w+)\s+(.*)$/.exec(whole);
    if (!m) throw new Error(`Dockerfile line without arguments: ${whole}`);
    out.push({ keyword: m[1].toUpperCase(), args: m[2] });
  }
  return out;
}

export interface DockerfileRun {
  /** The final stage's image, its ARG default substituted. */
  image: string;
  /** The files each scratch stage copies from the context. */
  stages: Record<string, string[]>;
  /** The RUN commands as the image would run them, in order, with the stage each bind-mounts (if any). */
  runs: { command: string; mounts: string[] }[];
  env: string[];
}

/**
 * Runs the install steps of a wheelhouse Dockerfile without a container engine: each scratch stage's
 * COPY files go to a folder of their own, each RUN runs in `sh` with the image's /opt/venv as `venvDir`,
 * a bind mount (`from=<stage>,target=T`) as that stage's folder in place of T, the pip cache mount as
 * PIP_CACHE_DIR, and `python` as `python` (the interpreter standing for the image's). Only the
 * instructions the generated Dockerfile uses are understood; any other fails.
 */
export async function runDockerfileInVenv(options: {
  dockerfile: string;
  python: string;
  workDir: string;
  venvDir: string;
  env: Record<string, string | undefined>;
}): Promise<DockerfileRun> {
  const context = dirname(options.dockerfile);
  const args: Record<string, string> = {};
  const result: DockerfileRun = { image: '', stages: {}, runs: [], env: [] };
  let stage: string | undefined;
  for (const { keyword, args: rest } of parseDockerfile(readFileSync(options.dockerfile, 'utf8'))) {
    if (keyword === 'ARG') {
      const [name, value] = rest.split('=');
      args[name] = value;
    } else if (keyword === 'FROM') {
      const scratch = /^scratch AS (\S+)$/.exec(rest);
      stage = scratch?.[1];
      if (stage) result.stages[stage] = [];
      else result.image = rest.replace(/\$\{(\w+)\}/g, (_m, n: string) => args[n] ?? '');
    } else if (keyword === 'COPY' && stage) {
      const parts = rest.split(/\s+/);
      if (parts.pop() !== '/') throw new Error(`unexpected COPY destination: ${rest}`);
      const dir = join(options.workDir, 'stages', stage);
      mkdirSync(dir, { recursive: true });
      for (const file of parts) copyFileSync(join(context, file), join(dir, file));
      result.stages[stage].push(...parts);
    } else if (keyword === 'RUN' && !stage) {
      let command = rest;
      const mounts: string[] = [];
      const env: Record<string, string | undefined> = { ...options.env };
      const targets: [string, string][] = [];
      for (let m = /^--mount=(\S+)\s+/.exec(command); m; m = /^--mount=(\S+)\s+/.exec(command)) {
        command = command.slice(m[0].length);
        const spec = Object.fromEntries(m[1].split(',').map((kv) => kv.split('=') as [string, string]));
        if (spec.type === 'cache') env.PIP_CACHE_DIR = join(options.workDir, 'pip-cache');
        else if (spec.type === 'bind') {
          mounts.push(spec.from);
          targets.push([spec.target, join(options.workDir, 'stages', spec.from)]);
        } else throw new Error(`unexpected mount ${m[1]}`);
      }
      result.runs.push({ command, mounts });
      for (const [target, dir] of targets) command = command.split(target).join(dir);
      const local = command.split('/opt/venv').join(options.venvDir).replace(/^python /, `${options.python} `);
      await run('sh', ['-c', local], { cwd: options.workDir, env, timeoutMs: 10 * 60_000 });
    } else if (keyword === 'ENV') {
      result.env.push(rest);
    } else {
      throw new Error(`the generated Dockerfile has an instruction this runner does not know: ${keyword} ${rest}`);
    }
  }
  return result;
}
