import { DROPPED_LEVEL_WARNINGS, type CpuIsa } from '../isa/model';
import { cmakeCode, withoutStrings } from './cmake-code';

/**
 * The compiler versions a commit's cmake/cpu_extension.cmake asks for, read from its text (decision 42):
 * each `CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND <version> VERSION_GREATER_EQUAL X` test, where <version>
 * is CMAKE_CXX_COMPILER_VERSION or a variable set from it, and what the file does when the test fails.
 */

export interface CompilerRequirement {
  compiler: 'GNU';
  /** The lowest passing version, as the file writes it ("12.3"). */
  minVersion: string;
  /**
   * `fatal`: below it configuring stops (vLLM >= 0.17 on x86). `drops-isa`: below it a warning turns the
   * `levels` off and the build goes on (vLLM <= 0.16: VNNI, BF16, AMX).
   */
  effect: 'fatal' | 'drops-isa';
  /** For `drops-isa`: the levels it turns off (a variant needs it when its isa is one of them or above). */
  levels: CpuIsa[];
  /** The architecture whose branch holds the test; undefined when no enclosing condition names one. */
  arch?: 'x86_64' | 'aarch64';
  /** Line of the test in the file (1-based). */
  line: number;
}

interface Branch {
  /** The if/elseif condition; null for else(). */
  condition: string | null;
  conditionStart: number;
  bodyStart: number;
  bodyEnd: number;
}

interface Block {
  branches: Branch[];
  end: number;
  /** The branches of the blocks this one sits in, innermost last. */
  enclosing: Branch[];
}

/** Index just past the `)` that closes the `(` at `open`; quoted text is skipped. */
function closingParen(code: string, open: number): number {
  let depth = 0;
  for (let i = open; i < code.length; i++) {
    const c = code[i];
    if (c === '"') {
      for (i++; i < code.length && code[i] !== '"'; i++) if (code[i] === '\\') i++;
    } else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i + 1;
  }
  return code.length;
}

/**
 * The if/elseif/else/endif structure of CMake code. Tolerant of excerpts: an else() or endif() without
 * its if() is ignored, and a block left open runs to the end of the text.
 */
function ifBlocks(code: string): Block[] {
  const blocks: Block[] = [];
  const open: Block[] = [];
  const closeBranch = (block: Block, at: number) => {
    const last = block.branches[block.branches.length - 1];
    last.bodyEnd = at;
  };
  const structure = withoutStrings(code); // a quoted "if (" is text, not a command
  const commands = /(?<![\w$}])(if|elseif|else|endif)\s*\(/gi;
  let m: RegExpExecArray | null;
  while ((m = commands.exec(structure))) {
    const name = m[1].toLowerCase();
    const parenAt = m.index + m[0].length - 1;
    const end = closingParen(structure, parenAt);
    const args = code.slice(parenAt + 1, end - 1);
    commands.lastIndex = end;
    const current = open[open.length - 1];
    if (name === 'if') {
      const block: Block = { branches: [], end: code.length, enclosing: open.map((b) => b.branches[b.branches.length - 1]) };
      block.branches.push({ condition: args, conditionStart: parenAt + 1, bodyStart: end, bodyEnd: code.length });
      open.push(block);
      blocks.push(block);
    } else if (!current) {
      continue;
    } else if (name === 'endif') {
      closeBranch(current, m.index);
      current.end = m.index;
      open.pop();
    } else {
      closeBranch(current, m.index);
      current.branches.push({ condition: name === 'elseif' ? args : null, conditionStart: parenAt + 1, bodyStart: end, bodyEnd: code.length });
    }
  }
  return blocks;
}

/** Variables holding the C++ compiler's version: CMAKE_CXX_COMPILER_VERSION and any set from it. */
function versionVariables(code: string): Set<string> {
  const names = new Set(['CMAKE_CXX_COMPILER_VERSION']);
  for (const m of code.matchAll(/\bset\s*\(\s*(\w+)\s+"?\$\{CMAKE_CXX_COMPILER_VERSION\}"?\s*\)/gi)) names.add(m[1]);
  return names;
}

/** The text of every quoted argument of each `message(<mode> …)` in `text`. */
function messages(text: string, mode: RegExp): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/\bmessage\s*\(/gi)) {
    const open = m.index + m[0].length - 1;
    const args = text.slice(open + 1, closingParen(text, open) - 1).trim();
    const first = /^(\w+)/.exec(args);
    if (!first || !mode.test(first[1])) continue;
    out.push([...args.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((q) => q[1]).join(''));
  }
  return out;
}

/**
 * The levels a warning drops: matched by upstream's pattern when the text is literal; when it is computed
 * (`Disable ${LABEL} ISA support, …`, as in the test fixture), every level whose v0.16.0 compiler message
 * the text could be.
 */
function droppedLevels(message: string): CpuIsa[] {
  const computed = /\$\{[^}]*\}/;
  if (!computed.test(message)) return DROPPED_LEVEL_WARNINGS.filter((d) => d.compilerMessage && d.pattern.test(message)).map((d) => d.needs);
  const template = new RegExp(
    `^${message
      .split(/\$\{[^}]*\}/)
      .map((part) => part.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'))
      .join('.+')}$`,
  );
  return DROPPED_LEVEL_WARNINGS.filter((d) => d.compilerMessage && template.test(d.compilerMessage)).map((d) => d.needs);
}

function archOf(conditions: (string | null)[]): 'x86_64' | 'aarch64' | undefined {
  for (const c of conditions.reverse()) {
    if (c === null) continue;
    if (/x86_64|amd64/.test(c)) return 'x86_64';
    if (/aarch64|arm64/i.test(c)) return 'aarch64';
  }
  return undefined;
}

/** Every GNU version requirement of a cpu_extension.cmake, in file order. */
export function compilerRequirements(cmakeText: string): CompilerRequirement[] {
  const code = cmakeCode(cmakeText);
  const versions = versionVariables(code);
  const out: CompilerRequirement[] = [];
  for (const block of ifBlocks(code)) {
    block.branches.forEach((branch, i) => {
      if (branch.condition === null || !/\bCMAKE_CXX_COMPILER_ID\s+STREQUAL\s+"?GNU"?/.test(branch.condition)) return;
      const test = /\b(\w+)\s+(VERSION_GREATER_EQUAL|VERSION_LESS)\s+"?(\d+(?:\.\d+)*)"?/.exec(branch.condition);
      if (!test || !versions.has(test[1])) return;
      // Which code runs with an older compiler: the branch itself when the test reads "too old", else what follows it.
      const negated = /^\s*NOT\b/.test(branch.condition) !== (test[2] === 'VERSION_LESS');
      const next = block.branches[i + 1];
      const failing = negated ? code.slice(branch.bodyStart, branch.bodyEnd) : next ? code.slice(next.bodyStart, block.end) : '';
      const line = code.slice(0, branch.conditionStart + test.index).split('\n').length;
      const arch = archOf([...block.enclosing.map((b) => b.condition)]);
      const base = { compiler: 'GNU' as const, minVersion: test[3], line, ...(arch ? { arch } : {}) };
      if (messages(failing, /^FATAL_ERROR$/).length) {
        out.push({ ...base, effect: 'fatal', levels: [] });
        return;
      }
      const levels = [...new Set(messages(failing, /^(WARNING|AUTHOR_WARNING)$/).flatMap(droppedLevels))];
      if (levels.length) out.push({ ...base, effect: 'drops-isa', levels, arch: arch ?? 'x86_64' });
    });
  }
  return out;
}
