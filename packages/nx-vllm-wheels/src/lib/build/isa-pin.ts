import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CpuIsa } from '../../config';
import { VllmWheelsError } from '../errors';
import { writeFileAtomic } from '../fs';

/**
 * What vLLM's (pre-0.17) cpu_extension.cmake should believe the CPU has, per variant ISA. It reads the
 * build host's /proc/cpuinfo and switches every extension the host has on, so without this the same
 * variant comes out different on different machines (and the cache would hand one machine's result to
 * another). Substring matching upstream: no flag here may contain another one's name by accident.
 */
export const PINNED_CPU_FLAGS: Record<CpuIsa, string> = {
  avx2: 'fpu sse sse2 ssse3 sse4_1 sse4_2 popcnt avx f16c fma bmi1 bmi2 avx2',
  avx512: 'fpu sse sse2 ssse3 sse4_1 sse4_2 popcnt avx f16c fma bmi1 bmi2 avx2 avx512f avx512dq avx512cd avx512bw avx512vl',
  avx512vnni: 'fpu sse sse2 ssse3 sse4_1 sse4_2 popcnt avx f16c fma bmi1 bmi2 avx2 avx512f avx512dq avx512cd avx512bw avx512vl avx512_vnni',
  avx512bf16:
    'fpu sse sse2 ssse3 sse4_1 sse4_2 popcnt avx f16c fma bmi1 bmi2 avx2 avx512f avx512dq avx512cd avx512bw avx512vl avx512_vnni avx512_bf16',
  amxbf16:
    'fpu sse sse2 ssse3 sse4_1 sse4_2 popcnt avx f16c fma bmi1 bmi2 avx2 avx512f avx512dq avx512cd avx512bw avx512vl avx512_vnni avx512_bf16 amx_bf16 amx_tile',
};

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

/** Upstream's warnings when it drops an extension the variant asked for, by the lowest ISA that needs it. */
const DROPPED: { needs: CpuIsa; pattern: RegExp }[] = [
  { needs: 'avx512', pattern: /vLLM CPU backend using AVX2 ISA/ },
  { needs: 'avx512vnni', pattern: /Disable AVX512-VNNI ISA support[^\n]*/ },
  { needs: 'avx512bf16', pattern: /Disable AVX512-BF16 ISA support[^\n]*/ },
  { needs: 'amxbf16', pattern: /Disable AMX_BF16 ISA support[^\n]*/ },
];
const ORDER: readonly CpuIsa[] = ['avx2', 'avx512', 'avx512vnni', 'avx512bf16', 'amxbf16'];

/**
 * Watches the build's output for upstream silently dropping an extension the variant's ISA needs
 * (no such CPU flag, or GCC < 12.3): the wheel would carry a name it does not live up to.
 */
export function droppedIsaWatcher(isa: CpuIsa): { onLine(line: string): void; problems(): string[] } {
  const found = new Set<string>();
  const relevant = DROPPED.filter((d) => ORDER.indexOf(d.needs) <= ORDER.indexOf(isa));
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
