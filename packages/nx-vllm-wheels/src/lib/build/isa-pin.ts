import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { archOfLevel, DROPPED_LEVEL_WARNINGS, levelAtLeast, PINNED_CPU_FLAGS, type CpuIsa } from '../isa/model';
import { VllmWheelsError } from '../errors';
import { writeFileAtomic } from '../fs';

export { PINNED_CPU_FLAGS };

export const PINNED_FLAGS_VARIABLE = 'VLLM_WHEELS_PINNED_CPU_FLAGS';
const CMAKE_FILE = 'cmake/cpu_extension.cmake';
const MARKER = '# nx-vllm-wheels: ISA pin';
/** vLLM's read of the host: `execute_process(COMMAND cat /proc/cpuinfo ... OUTPUT_VARIABLE CPUINFO)`. */
const HOST_READ = /execute_process\s*\(\s*COMMAND\s+cat\b[^)]*?OUTPUT_VARIABLE\s+CPUINFO\b[^)]*\)/;
const PIN_BLOCK = `
${MARKER} — the variant's ISA, not the build host's CPU, decides what is compiled.
if (DEFINED ENV{${PINNED_FLAGS_VARIABLE}})
  set(CPUINFO "flags\\t\\t: $ENV{${PINNED_FLAGS_VARIABLE}}\\n")
  message(STATUS "nx-vllm-wheels: CPU flags pinned to the variant's ISA: $ENV{${PINNED_FLAGS_VARIABLE}}")
endif()`;

/**
 * The source edit that makes CMake read the pinned flags: inserted right after vLLM's own read of
 * /proc/cpuinfo. Applied to the worktree after the user's patches; its digest is part of the worktree
 * state, and this file is part of the build's code fingerprint (so of its cache key).
 */
export const isaPinEdit = {
  name: `nx-vllm-wheels ISA pin (${CMAKE_FILE})`,
  digest: createHash('sha256').update(PIN_BLOCK).digest('hex').slice(0, 16),
  apply(sourceDir: string): void {
    const file = join(sourceDir, CMAKE_FILE);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      throw new VllmWheelsError(
        `Cannot pin the CPU ISA: ${CMAKE_FILE} does not exist in this vLLM source. Set "pinIsa": false in wheel.json to build without the pin (the host's CPU then decides the ISA).`,
      );
    }
    if (text.includes(MARKER)) return;
    const match = HOST_READ.exec(text);
    if (!match) {
      throw new VllmWheelsError(
        `Cannot pin the CPU ISA: ${CMAKE_FILE} has no \`execute_process(COMMAND cat /proc/cpuinfo ... OUTPUT_VARIABLE CPUINFO)\`; this vLLM version detects the CPU differently. Set "pinIsa": false in wheel.json to build without the pin.`,
      );
    }
    const at = match.index + match[0].length;
    writeFileAtomic(file, text.slice(0, at) + PIN_BLOCK + text.slice(at));
  },
};

/**
 * Watches the build's output for upstream silently dropping an extension the variant's ISA needs
 * (no such CPU flag, or GCC < 12.3): the wheel would carry a name it does not live up to.
 */
export function droppedIsaWatcher(isa: CpuIsa): { onLine(line: string): void; problems(): string[] } {
  const found = new Set<string>();
  const relevant = DROPPED_LEVEL_WARNINGS.filter((d) => archOfLevel(d.needs) === archOfLevel(isa) && levelAtLeast(isa, d.needs));
  return {
    onLine(line) {
      for (const d of relevant) {
        const m = d.pattern.exec(line);
        if (m) found.add(m[0].replace(/^CMake Warning.*?:\s*/, '').trim());
      }
    },
    problems: () => [...found],
  };
}
