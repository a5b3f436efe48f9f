import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { machine } from 'node:os';
import { resolve as resolvePath } from 'node:path';
import { CommandError, ToolError } from '../errors';
import { formatCommand, superviseChild, which } from '../process';
import { classify, type IsaExtension } from './classify';
import { classifyAarch64 } from './classify-aarch64';
import { EXTENSIONS_BY_ARCH, type IsaArch } from './model';
import { decodeUndecoded, readAtAddresses } from './undecoded';

/** One instruction of an extension, where it was found. */
export interface IsaExample {
  /** The function (the last `<symbol>:` label objdump printed before it), as objdump prints it. */
  symbol: string;
  /** Its address in the library, `0x…`. */
  address: string;
  /** The instruction as objdump prints it, with runs of spaces collapsed. */
  instruction: string;
}

export interface Disassembly {
  /** objdump's "file format" of the library, e.g. `elf64-x86-64`. */
  format: string;
  /** Every instruction line. */
  instructions: number;
  /** Instructions per extension of the architecture disassembled (each of them present, 0 when unused). */
  counts: Partial<Record<IsaExtension, number>>;
  /** The first `maxExamples` instructions of each of those extensions, in address order (by section). */
  examples: Partial<Record<IsaExtension, IsaExample[]>>;
  /** With `dispatchedSymbols`: the instructions of the functions it matches, per extension (not in `counts`). */
  dispatched?: Partial<Record<IsaExtension, number>>;
}

/** objdump's "file format" of a shared library of each architecture. */
export const ELF_FORMATS: Readonly<Record<IsaArch, string>> = { x86_64: 'elf64-x86-64', aarch64: 'elf64-littleaarch64' };

/** The architecture this process runs on, as `uname -m` names it (`x86_64`, `aarch64`). */
export function hostMachine(): string {
  return machine();
}

/**
 * The objdump that reads `arch`'s code on a `host` machine: the host's own `objdump`, or the cross
 * binutils' (`aarch64-linux-gnu-objdump` from Debian's binutils-aarch64-linux-gnu on an x86-64 machine).
 */
export function objdumpFor(arch: IsaArch, host: string = hostMachine()): string {
  return arch === host ? 'objdump' : `${arch}-linux-gnu-objdump`;
}

/** What provides `program`, for the message when it is missing. */
function binutilsPackage(program: string): string {
  const cross = /^(.+)-linux-gnu-objdump$/.exec(program);
  if (!cross) return 'binutils (e.g. apt-get install binutils), which provides objdump';
  return `the cross binutils for ${cross[1]} (Debian/Ubuntu: apt-get install binutils-${cross[1].replace(/_/g, '-')}-linux-gnu), which provides ${program}`;
}

export interface DisassembleOptions {
  /** The complete environment of objdump (PATH must lead to it); nothing is inherited. */
  env: Record<string, string | undefined>;
  /** objdump's working directory. */
  cwd: string;
  /** objdump is killed (with its process group) after this many milliseconds. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Examples kept per extension; default 5. */
  maxExamples?: number;
  /** The objdump program; default objdumpFor(arch) on env.PATH. */
  objdump?: string;
  /** The architecture of the library (what its instructions are classified as); default x86_64. */
  arch?: IsaArch;
  /** Functions (mangled names) whose instructions are counted apart, in `dispatched` (see DispatchedCode). */
  dispatchedSymbols?: RegExp;
}

/** objdump's arguments for x86-64 (AT&T syntax, which the x86 classifier reads). */
export const OBJDUMP_ARGS = ['-d', '--no-show-raw-insn', '-M', 'att'] as const;
const OBJDUMP_ARGS_BY_ARCH: Readonly<Record<IsaArch, readonly string[]>> = { x86_64: OBJDUMP_ARGS, aarch64: ['-d', '--no-show-raw-insn'] };
const STDERR_LIMIT = 64 * 1024;

/** The objdump command that disassembles `file` of `arch` (what disassemble runs, and a dry run prints). */
export function objdumpCommand(file: string, options: { arch?: IsaArch; objdump?: string } = {}): [string, string[]] {
  const arch = options.arch ?? 'x86_64';
  return [options.objdump ?? objdumpFor(arch), [...OBJDUMP_ARGS_BY_ARCH[arch], file]];
}

/**
 * Disassembles `file` with `objdump -d --no-show-raw-insn` (`-M att` on x86-64) and classifies every
 * instruction by ISA extension while objdump runs: the output (gigabytes for a large library) is parsed
 * chunk by chunk and never held whole. Missing objdump: ToolError. objdump failing, timing out or
 * cancelled: CommandError.
 */
export function disassemble(file: string, options: DisassembleOptions): Promise<Disassembly> {
  const arch = options.arch ?? 'x86_64';
  const [program, args] = objdumpCommand(file, { arch, objdump: options.objdump });
  const printable = formatCommand(program, args);
  const env = Object.fromEntries(Object.entries(options.env).filter((e): e is [string, string] => e[1] !== undefined));
  if (!which(program, env)) {
    return Promise.reject(new ToolError(`Cannot audit ISA: ${program} not found (PATH ${env.PATH ?? '(unset)'}). Install ${binutilsPackage(program)}.`));
  }
  return new Promise<Disassembly>((resolve, reject) => {
    const parser = new ObjdumpParser(options.maxExamples ?? 5, arch, options.dispatchedSymbols);
    const child = spawn(program, args, { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stderr = '';
    let parseError: unknown;
    const supervision = superviseChild(child, options.timeoutMs, options.signal);
    child.stdout.on('data', (chunk: Buffer) => {
      if (parseError !== undefined) return;
      try {
        parser.push(chunk);
      } catch (e) {
        parseError = e;
        supervision.kill();
      }
    });
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      if (stderr.length < STDERR_LIMIT) stderr += text;
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      supervision.stop();
      if (e.code === 'ENOENT' && existsSync(options.cwd)) {
        reject(new ToolError(`Cannot audit ISA: ${program} not found (PATH ${env.PATH ?? '(unset)'}). Install ${binutilsPackage(program)}.`, { cause: e }));
      } else {
        reject(new CommandError(`Cannot run ${printable} (cwd ${options.cwd}): ${e.message}`, printable, null, '', { cause: e }));
      }
    });
    child.on('close', (code, signal) => {
      supervision.stop();
      if (parseError !== undefined) return reject(parseError);
      const tail = stderr.trim().split('\n').slice(-20).join('\n');
      if (code === 0 && !supervision.timedOut && !supervision.aborted) {
        return resolveUndecoded(resolvePath(options.cwd, file), parser.end(), options.maxExamples ?? 5).then(resolve, reject);
      }
      reject(new CommandError(`Command ${supervision.failure(code, signal)} (cwd ${options.cwd}): ${printable}${tail ? `\n${tail}` : ''}`, printable, code, tail));
    });
  });
}

/** Classifies what objdump printed as `(bad)` by its bytes (see undecoded.ts), then drops the addresses. */
async function resolveUndecoded(file: string, parsed: Disassembly & { undecoded: IsaExample[] }, maxExamples: number): Promise<Disassembly> {
  const { undecoded, ...disassembly } = parsed;
  if (undecoded.length === 0) return disassembly;
  const bytes = await readAtAddresses(file, undecoded.map((u) => Number.parseInt(u.address, 16)), 5);
  undecoded.forEach((u, i) => {
    const decoded = decodeUndecoded(bytes[i]);
    if (decoded === undefined) return;
    disassembly.counts[decoded.extension] = (disassembly.counts[decoded.extension] ?? 0) + 1;
    const examples = (disassembly.examples[decoded.extension] ??= []);
    if (examples.length < maxExamples) examples.push({ symbol: u.symbol, address: u.address, instruction: decoded.instruction });
  });
  return disassembly;
}

/** `(bad)` lines looked at per library (data in .text makes a few in real libraries). */
const MAX_UNDECODED = 4096;
const BAD = '(bad)';

const NEWLINE = 0x0a;
const TAB = 0x09;
const FORMAT_MARK = 'file format ';

/**
 * Parses objdump's output as it arrives. Chunks are decoded as latin1 (one byte per character, a cheap
 * copy) and scanned with indexOf; on x86-64 a line becomes a string of its own only when it is a symbol
 * label or an instruction whose first letter can start a non-baseline mnemonic (see `classify`); on
 * aarch64 (where any mnemonic can take SVE registers) every instruction is classified.
 */
class ObjdumpParser {
  private rest = '';
  private symbol = '?';
  private format = '';
  private instructions = 0;
  private readonly counts: Partial<Record<IsaExtension, number>>;
  private readonly examples: Partial<Record<IsaExtension, IsaExample[]>>;
  private readonly dispatched?: Partial<Record<IsaExtension, number>>;
  /** The current function is one of `dispatchedSymbols`. */
  private inDispatched = false;

  constructor(
    private readonly maxExamples: number,
    private readonly arch: IsaArch,
    private readonly dispatchedSymbols?: RegExp,
  ) {
    this.counts = Object.fromEntries(EXTENSIONS_BY_ARCH[arch].map((e) => [e, 0]));
    this.examples = Object.fromEntries(EXTENSIONS_BY_ARCH[arch].map((e) => [e, []]));
    if (dispatchedSymbols) this.dispatched = Object.fromEntries(EXTENSIONS_BY_ARCH[arch].map((e) => [e, 0]));
  }

  push(chunk: Buffer): void {
    const text = this.rest + chunk.toString('latin1');
    let start = 0;
    for (let nl = text.indexOf('\n', start); nl >= 0; nl = text.indexOf('\n', start)) {
      this.line(text, start, nl);
      start = nl + 1;
    }
    this.rest = start < text.length ? text.slice(start) : '';
  }

  private readonly undecoded: IsaExample[] = [];

  end(): Disassembly & { undecoded: IsaExample[] } {
    if (this.rest) this.line(this.rest, 0, this.rest.length);
    this.rest = '';
    return {
      format: this.format,
      instructions: this.instructions,
      counts: this.counts,
      examples: this.examples,
      ...(this.dispatched && { dispatched: this.dispatched }),
      undecoded: this.undecoded,
    };
  }

  /** One line, text[start, end) without its newline. */
  private line(text: string, start: number, end: number): void {
    const first = text.charCodeAt(start);
    if (first === 0x20) {
      // "    1118:\tvmovdqu32 (%rdx,%rax,1),%zmm1"
      const tab = text.indexOf('\t', start);
      if (tab < 0 || tab >= end) return;
      this.instructions++;
      if (this.arch === 'aarch64') return this.count(classifyAarch64(text.slice(tab + 1, end)), text, start, tab, end);
      const c = text.charCodeAt(tab + 1);
      if (c === 0x28 && this.undecoded.length < MAX_UNDECODED && text.startsWith(BAD, tab + 1)) {
        this.undecoded.push({ symbol: this.symbol, address: `0x${text.slice(start, tab - 1).trim()}`, instruction: BAD });
        return;
      }
      // v, {, k, t, l, s, g: the only first letters classify() does not settle as baseline at once.
      if (c !== 0x76 && c !== 0x7b && c !== 0x6b && c !== 0x74 && c !== 0x6c && c !== 0x73 && c !== 0x67) return;
      this.count(classify(text.slice(tab + 1, end)), text, start, tab, end);
    } else if (first === 0x30 && text.charCodeAt(end - 1) === 0x3a && text.charCodeAt(end - 2) === 0x3e) {
      // "0000000000001100 <vec_add_avx512>:"
      const open = text.indexOf(' <', start);
      if (open > 0 && open < end) {
        this.symbol = Buffer.from(text.slice(open + 2, end - 2), 'latin1').toString('utf8');
        this.inDispatched = this.dispatchedSymbols?.test(this.symbol) ?? false;
      }
    } else if (!this.format && first !== TAB && first !== NEWLINE) {
      // "/tmp/x/lib.so:     file format elf64-x86-64"
      const at = text.lastIndexOf(FORMAT_MARK, end);
      if (at >= start) this.format = text.slice(at + FORMAT_MARK.length, end).trim();
    }
  }

  /** Counts the instruction text[tab + 1, end) as `extension` (nothing when baseline); keeps the first examples. */
  private count(extension: IsaExtension | undefined, text: string, start: number, tab: number, end: number): void {
    if (extension === undefined) return;
    if (this.inDispatched && this.dispatched) {
      this.dispatched[extension] = (this.dispatched[extension] ?? 0) + 1;
      return;
    }
    this.counts[extension] = (this.counts[extension] ?? 0) + 1;
    const examples = (this.examples[extension] ??= []);
    if (examples.length < this.maxExamples) {
      // aarch64 separates the mnemonic from its operands with a tab; x86-64 pads with spaces.
      const instruction = text.slice(tab + 1, end).trim().replace(/\t/g, ' ').replace(/ {2,}/g, ' ');
      examples.push({ symbol: this.symbol, address: `0x${text.slice(start, tab - 1).trim()}`, instruction });
    }
  }
}
