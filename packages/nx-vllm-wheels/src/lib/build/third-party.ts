import { cmakeCode } from './commit-profile';

/**
 * The third-party git sources a vLLM commit's cmake/cpu_extension.cmake would download at configure
 * time (oneDNN, Arm Compute Library), read from its text (decision 41): repository, pinned ref, the
 * architectures whose build reaches the download, and the environment variable that replaces it.
 */

export const THIRD_PARTY_ARCHS = ['x86_64', 'aarch64'] as const;
export type ThirdPartyArch = (typeof THIRD_PARTY_ARCHS)[number];

export interface ThirdPartyPin {
  /** The FetchContent name as written (`oneDNN`, `arm_compute`). */
  name: string;
  repository: string;
  /** GIT_TAG as written: a tag, a commit id, or (refused when mirrored) a branch. */
  ref: string;
  /** Architectures whose build can reach this download (its enclosing conditions are not false there). */
  archs: ThirdPartyArch[];
  /** The variable that names a local source instead (`FETCHCONTENT_SOURCE_DIR_ONEDNN`, `ACL_ROOT_DIR`). */
  variable: string;
  /**
   * `shared`: a FetchContent_Declare whose FETCHCONTENT_SOURCE_DIR_<NAME> becomes its SOURCE_DIR, with
   * its binary dir in the build tree, so the build only reads it. `per-build`: the file does its own
   * thing with the directory (ACL is built in place, in `$ENV{ACL_ROOT_DIR}/build`).
   */
  sharing: 'shared' | 'per-build';
  /** 1-based line of the FetchContent call. */
  line: number;
}

/** A download the plugin cannot mirror (no variable replaces it, a computed or non-git source…): the build still downloads it. */
export interface UnmirroredFetch {
  name: string;
  line: number;
  why: string;
}

export interface ThirdPartyReading {
  pins: ThirdPartyPin[];
  unmirrored: UnmirroredFetch[];
}

interface Token {
  text: string;
  quoted: boolean;
}

interface Command {
  name: string;
  args: Token[];
  line: number;
}

/** Command invocations of CMake code (comments already stripped): `name(args…)`, nested parentheses kept as tokens. */
function commands(code: string): Command[] {
  const out: Command[] = [];
  const head = /([A-Za-z_][A-Za-z0-9_]*)[ \t]*\(/y;
  let line = 1;
  for (let i = 0; i < code.length; ) {
    head.lastIndex = i;
    const m = head.exec(code);
    const prev = i === 0 ? '\n' : code[i - 1];
    if (!m || !/[\s;)]/.test(prev)) {
      if (code[i] === '\n') line++;
      i++;
      continue;
    }
    const start = line;
    const args: Token[] = [];
    let depth = 0;
    let j = head.lastIndex;
    let word = '';
    const flush = () => {
      if (word) args.push({ text: word, quoted: false });
      word = '';
    };
    for (; j < code.length; j++) {
      const c = code[j];
      if (c === '\n') line++;
      if (c === '"') {
        flush();
        let text = '';
        for (j++; j < code.length && code[j] !== '"'; j++) {
          if (code[j] === '\n') line++;
          if (code[j] === '\\' && j + 1 < code.length) text += code[++j];
          else text += code[j];
        }
        args.push({ text, quoted: true });
      } else if (c === '(') {
        flush();
        depth++;
        args.push({ text: '(', quoted: false });
      } else if (c === ')') {
        flush();
        if (depth === 0) break;
        depth--;
        args.push({ text: ')', quoted: false });
      } else if (/\s/.test(c)) {
        flush();
      } else {
        word += c;
      }
    }
    out.push({ name: m[1].toLowerCase(), args, line: start });
    i = j + 1;
  }
  return out;
}

type Tri = true | false | undefined; // undefined: cannot be known from the text

const not = (a: Tri): Tri => (a === undefined ? undefined : !a);
const and = (values: Tri[]): Tri => (values.includes(false) ? false : values.every((v) => v === true) ? true : undefined);
const or = (values: Tri[]): Tri => (values.includes(true) ? true : values.every((v) => v === false) ? false : undefined);

/**
 * What a variable of upstream's CPU detection is on a Linux build host of `arch`. `*_FOUND` results of
 * searching cpuinfo are false on the other architecture and unknown (host-dependent) on their own.
 */
function variableOn(name: string, arch: ThirdPartyArch): Tri {
  if (name === 'ASIMD_FOUND') return arch === 'aarch64';
  if (name === 'ENABLE_X86_ISA') return arch === 'x86_64';
  if (/^(APPLE_SILICON|MACOSX)_FOUND$/.test(name)) return false;
  if (/^(AVX\w*|AMX\w*)_FOUND$/.test(name)) return arch === 'x86_64' ? undefined : false;
  if (/^ARM_\w+_FOUND$/.test(name)) return arch === 'aarch64' ? undefined : false;
  if (/^(POWER\d+|RVV\w*|S390|VSX\w*)_FOUND$/.test(name)) return false;
  return undefined;
}

const UNARY = new Set(['EXISTS', 'COMMAND', 'DEFINED', 'POLICY', 'TARGET', 'TEST', 'IS_DIRECTORY', 'IS_SYMLINK', 'IS_ABSOLUTE', 'IS_READABLE', 'IS_WRITABLE', 'IS_EXECUTABLE']);
const BINARY = /^(EQUAL|LESS|LESS_EQUAL|GREATER|GREATER_EQUAL|STREQUAL|STRLESS|STRLESS_EQUAL|STRGREATER|STRGREATER_EQUAL|VERSION_\w+|MATCHES|IN_LIST|IS_NEWER_THAN|PATH_EQUAL)$/;

/** Evaluates an if() condition on a build host of `arch` (Kleene logic: what the text cannot decide stays unknown). */
function evaluate(tokens: Token[], arch: ThirdPartyArch): Tri {
  let pos = 0;
  const peek = () => tokens[pos];
  const keyword = (word: string) => peek() !== undefined && !peek().quoted && peek().text === word;
  const orExpr = (): Tri => {
    const values = [andExpr()];
    while (keyword('OR')) {
      pos++;
      values.push(andExpr());
    }
    return or(values);
  };
  const andExpr = (): Tri => {
    const values = [notExpr()];
    while (keyword('AND')) {
      pos++;
      values.push(notExpr());
    }
    return and(values);
  };
  const notExpr = (): Tri => {
    if (keyword('NOT')) {
      pos++;
      return not(notExpr());
    }
    return primary();
  };
  const primary = (): Tri => {
    const token = peek();
    if (token === undefined) return undefined;
    if (keyword('(')) {
      pos++;
      const value = orExpr();
      if (keyword(')')) pos++;
      return value;
    }
    if (!token.quoted && UNARY.has(token.text)) {
      pos += 2;
      return undefined;
    }
    pos++;
    const op = peek();
    if (op !== undefined && !op.quoted && BINARY.test(op.text)) {
      const right = tokens[pos + 1];
      pos += 2;
      if (token.text === 'CMAKE_SYSTEM_PROCESSOR' && right !== undefined) {
        if (op.text === 'MATCHES') return new RegExp(right.text).test(arch);
        if (op.text === 'STREQUAL') return right.text === arch;
      }
      return undefined;
    }
    return token.quoted ? undefined : variableOn(token.text, arch);
  };
  return orExpr();
}

/** One branch of an if/elseif/else chain: the conditions before it (false here) and its own (true here; none for else). */
interface Branch {
  before: Token[][];
  own?: Token[];
}

function branchOn(branch: Branch, arch: ThirdPartyArch): Tri {
  return and([...branch.before.map((c) => not(evaluate(c, arch))), ...(branch.own ? [evaluate(branch.own, arch)] : [])]);
}

/** `set(V … $ENV{X} …)`: V holds environment variable X; `path` when V is a `CACHE PATH` entry. */
function variablesFromEnv(cmds: Command[]): Map<string, { env: string; path: boolean }> {
  const out = new Map<string, { env: string; path: boolean }>();
  for (const c of cmds) {
    if (c.name !== 'set' || c.args.length < 2) continue;
    const read = /\$ENV\{([A-Za-z_][A-Za-z0-9_]*)\}/.exec(c.args[1].text);
    const cache = c.args.findIndex((t) => !t.quoted && t.text === 'CACHE');
    if (read) out.set(c.args[0].text, { env: read[1], path: cache !== -1 && c.args[cache + 1]?.text === 'PATH' });
  }
  return out;
}

/**
 * The environment variables that skip a download: those the conditions it sits in the else of read as a
 * directory, directly (`if(DEFINED ENV{ACL_ROOT_DIR} AND IS_DIRECTORY "$ENV{ACL_ROOT_DIR}") … else()
 * <download>`) or through a variable set from one (`set(FETCHCONTENT_SOURCE_DIR_ONEDNN
 * "$ENV{FETCHCONTENT_SOURCE_DIR_ONEDNN}" CACHE PATH …)`). A variable not used as a path (a switch such
 * as VLLM_CPU_X86) is never one: the plugin would set it to a directory.
 */
function skippingVariables(stack: Branch[], fromEnv: Map<string, { env: string; path: boolean }>): string[] {
  const envNames = (text: string) => [...text.matchAll(/ENV\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1]);
  const names = new Set<string>();
  for (const condition of stack.flatMap((b) => b.before)) {
    const asPath = new Set<string>();
    condition.forEach((token, i) => {
      const previous = condition[i - 1];
      if (previous && !previous.quoted && /^(IS_DIRECTORY|EXISTS)$/.test(previous.text)) for (const n of envNames(token.text)) asPath.add(n);
    });
    for (const token of condition) {
      for (const n of envNames(token.text)) if (asPath.has(n) || n.startsWith('FETCHCONTENT_SOURCE_DIR_')) names.add(n);
      const held = token.quoted ? undefined : fromEnv.get(token.text);
      if (held && (held.path || held.env.startsWith('FETCHCONTENT_SOURCE_DIR_'))) names.add(held.env);
    }
  }
  return [...names].sort();
}

/** `${VAR}` replaced by the one literal `set(VAR value)` of the file; undefined when that is not how it is set. */
function literal(value: string, cmds: Command[]): string | undefined {
  const resolved = value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
    const sets = cmds.filter((c) => c.name === 'set' && c.args[0]?.text === name);
    return sets.length === 1 && sets[0].args.length === 2 && !sets[0].args[1].text.includes('$') ? sets[0].args[1].text : '\0';
  });
  return resolved.includes('\0') || resolved.includes('$') ? undefined : resolved;
}

function keywordValue(args: Token[], key: string): string | undefined {
  const i = args.findIndex((t) => !t.quoted && t.text === key);
  return i === -1 ? undefined : args[i + 1]?.text;
}

/** Every third-party git download of a cpu_extension.cmake, and those that cannot be mirrored (with why). */
export function readThirdPartySources(cmakeText: string): ThirdPartyReading {
  const cmds = commands(cmakeCode(cmakeText));
  const fromEnv = variablesFromEnv(cmds);
  const pins: ThirdPartyPin[] = [];
  const unmirrored: UnmirroredFetch[] = [];
  const stack: Branch[] = [];
  for (const c of cmds) {
    if (c.name === 'if') stack.push({ before: [], own: c.args });
    else if (c.name === 'elseif' || c.name === 'else') {
      const top = stack[stack.length - 1];
      if (!top) continue;
      top.before = [...top.before, ...(top.own ? [top.own] : [])];
      top.own = c.name === 'elseif' ? c.args : undefined;
    } else if (c.name === 'endif') stack.pop();
    else if (c.name === 'fetchcontent_declare' || c.name === 'fetchcontent_populate') {
      const name = c.args[0]?.text ?? '?';
      const archs = THIRD_PARTY_ARCHS.filter((arch) => stack.every((b) => branchOn(b, arch) !== false));
      const rawRepository = keywordValue(c.args, 'GIT_REPOSITORY');
      if (rawRepository === undefined) {
        if (keywordValue(c.args, 'URL') !== undefined) unmirrored.push({ name, line: c.line, why: 'it downloads a URL, not a git repository' });
        continue; // SOURCE_DIR only: the local-source branch itself
      }
      if (archs.length === 0) continue;
      const repository = literal(rawRepository, cmds);
      const ref = literal(keywordValue(c.args, 'GIT_TAG') ?? '', cmds);
      if (repository === undefined || ref === undefined || ref === '') {
        unmirrored.push({ name, line: c.line, why: ref === '' ? 'it has no GIT_TAG (it follows the default branch)' : 'its GIT_REPOSITORY or GIT_TAG is computed' });
        continue;
      }
      const variables = skippingVariables(stack, fromEnv);
      if (variables.length !== 1) {
        const why = variables.length === 0 ? 'no environment variable replaces the download' : `several variables decide whether it is downloaded (${variables.join(', ')})`;
        unmirrored.push({ name, line: c.line, why });
        continue;
      }
      const [variable] = variables;
      const shared = c.name === 'fetchcontent_declare' && variable === `FETCHCONTENT_SOURCE_DIR_${name.toUpperCase()}`;
      pins.push({ name, repository, ref, archs, variable, sharing: shared ? 'shared' : 'per-build', line: c.line });
    }
  }
  return { pins, unmirrored };
}

/**
 * The pins a build for `arch` uses. Two different pins of one name that both may apply (conditions the
 * text cannot tell apart) cannot be chosen between: that name is left to the build to download.
 */
export function pinsForArch(reading: ThirdPartyReading, arch: string): ThirdPartyReading {
  const candidates = reading.pins.filter((p) => (p.archs as string[]).includes(arch));
  const pins: ThirdPartyPin[] = [];
  const unmirrored = reading.unmirrored.slice();
  for (const name of [...new Set(candidates.map((p) => p.name))]) {
    const same = candidates.filter((p) => p.name === name);
    const distinct = new Set(same.map((p) => `${p.repository} ${p.ref}`));
    if (distinct.size === 1) pins.push(same[0]);
    else unmirrored.push({ name, line: same[0].line, why: `it is pinned ${same.length} ways (${same.map((p) => `${p.ref} at line ${p.line}`).join(', ')}) under conditions that do not say which one ${arch} uses` });
  }
  return { pins, unmirrored };
}
