import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../test-support/temp';
import { VllmWheelsError } from '../errors';
import { droppedIsaWatcher, isaPinEdit, PINNED_CPU_FLAGS, PINNED_FLAGS_VARIABLE } from './isa-pin';

// vLLM v0.16.0's cmake/cpu_extension.cmake, lines 46-63, verbatim (from the PyPI sdist vllm-0.16.0.tar.gz):
// its read of the host's CPU flags and the substring test every ISA decision goes through.
const UPSTREAM_V0_16_0 = `if (NOT MACOSX_FOUND)
    execute_process(COMMAND cat /proc/cpuinfo
                    RESULT_VARIABLE CPUINFO_RET
                    OUTPUT_VARIABLE CPUINFO)
    if (NOT CPUINFO_RET EQUAL 0)
        message(FATAL_ERROR "Failed to check CPU features via /proc/cpuinfo")
    endif()
endif()


function (find_isa CPUINFO TARGET OUT)
    string(FIND \${CPUINFO} \${TARGET} ISA_FOUND)
    if(NOT ISA_FOUND EQUAL -1)
        set(\${OUT} ON PARENT_SCOPE)
    else()
        set(\${OUT} OFF PARENT_SCOPE)
    endif()
endfunction()
`;

/** A source tree whose cmake/cpu_extension.cmake is `text`. */
function sourceWith(text: string): string {
  const dir = tempDir('isa-pin');
  mkdirSync(join(dir, 'cmake'));
  writeFileSync(join(dir, 'cmake', 'cpu_extension.cmake'), text);
  return dir;
}

/** Runs the (edited) upstream snippet in CMake's script mode and asks it what it found. */
function foundIsas(dir: string, pinned: string | undefined, isas = ['avx2', 'avx512f', 'avx512_vnni', 'avx512_bf16', 'amx_bf16']): Record<string, string> {
  const probe = join(dir, 'probe.cmake');
  writeFileSync(
    probe,
    `${readFileSync(join(dir, 'cmake', 'cpu_extension.cmake'), 'utf8')}\n${isas.map((isa) => `find_isa(\${CPUINFO} "${isa}" F)\nmessage(STATUS "${isa}=\${F}")`).join('\n')}\n`,
  );
  const env = { PATH: process.env.PATH, ...(pinned === undefined ? {} : { [PINNED_FLAGS_VARIABLE]: pinned }) };
  const out = execFileSync('cmake', ['-P', probe], { env, encoding: 'utf8' });
  return Object.fromEntries([...out.matchAll(/-- (\w+)=(ON|OFF)/g)].map((m) => [m[1], m[2]]));
}

describe('isaPinEdit', () => {
  it("anchors in vLLM v0.16.0's own cpu_extension.cmake, right after the read of /proc/cpuinfo, and only once", () => {
    const dir = sourceWith(UPSTREAM_V0_16_0);
    isaPinEdit.apply(dir);
    const edited = readFileSync(join(dir, 'cmake', 'cpu_extension.cmake'), 'utf8');
    expect(edited.indexOf('OUTPUT_VARIABLE CPUINFO)')).toBeLessThan(edited.indexOf('# nx-vllm-wheels: ISA pin'));
    expect(edited.indexOf('# nx-vllm-wheels: ISA pin')).toBeLessThan(edited.indexOf('if (NOT CPUINFO_RET EQUAL 0)'));
    isaPinEdit.apply(dir);
    expect(readFileSync(join(dir, 'cmake', 'cpu_extension.cmake'), 'utf8')).toBe(edited);
  });

  it("makes upstream's own ISA test see the variant's flags, whatever the host has, and the host's without the variable", () => {
    const dir = sourceWith(UPSTREAM_V0_16_0);
    isaPinEdit.apply(dir);
    expect(foundIsas(dir, PINNED_CPU_FLAGS.avx2)).toEqual({ avx2: 'ON', avx512f: 'OFF', avx512_vnni: 'OFF', avx512_bf16: 'OFF', amx_bf16: 'OFF' });
    expect(foundIsas(dir, PINNED_CPU_FLAGS.avx512)).toEqual({ avx2: 'ON', avx512f: 'ON', avx512_vnni: 'OFF', avx512_bf16: 'OFF', amx_bf16: 'OFF' });
    expect(foundIsas(dir, PINNED_CPU_FLAGS.avx512vnni)).toEqual({ avx2: 'ON', avx512f: 'ON', avx512_vnni: 'ON', avx512_bf16: 'OFF', amx_bf16: 'OFF' });
    expect(foundIsas(dir, PINNED_CPU_FLAGS.avx512bf16)).toEqual({ avx2: 'ON', avx512f: 'ON', avx512_vnni: 'ON', avx512_bf16: 'ON', amx_bf16: 'OFF' });
    expect(foundIsas(dir, PINNED_CPU_FLAGS.amxbf16)).toEqual({ avx2: 'ON', avx512f: 'ON', avx512_vnni: 'ON', avx512_bf16: 'ON', amx_bf16: 'ON' });
    const hostFlags = /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? '';
    expect(foundIsas(dir, undefined).avx512f).toBe(hostFlags.includes('avx512f') ? 'ON' : 'OFF');
  });

  it("pins vLLM's aarch64 searches (asimd, bf16, i8mm; the same substring test) to each aarch64 level", () => {
    const dir = sourceWith(UPSTREAM_V0_16_0);
    isaPinEdit.apply(dir);
    const arm = (flags: string) => foundIsas(dir, flags, ['asimd', 'bf16', 'i8mm']);
    expect(arm(PINNED_CPU_FLAGS.armv8)).toEqual({ asimd: 'ON', bf16: 'OFF', i8mm: 'OFF' });
    expect(arm(PINNED_CPU_FLAGS.dotprod)).toEqual({ asimd: 'ON', bf16: 'OFF', i8mm: 'OFF' });
    expect(arm(PINNED_CPU_FLAGS.bf16)).toEqual({ asimd: 'ON', bf16: 'ON', i8mm: 'OFF' });
    for (const level of ['i8mm', 'sve', 'sve2'] as const) expect([level, arm(PINNED_CPU_FLAGS[level])]).toEqual([level, { asimd: 'ON', bf16: 'ON', i8mm: 'ON' }]);
    // No x86 flag in an aarch64 level's cpuinfo, nor the other way round.
    expect(foundIsas(dir, PINNED_CPU_FLAGS.sve2)).toEqual({ avx2: 'OFF', avx512f: 'OFF', avx512_vnni: 'OFF', avx512_bf16: 'OFF', amx_bf16: 'OFF' });
    expect(foundIsas(dir, PINNED_CPU_FLAGS.amxbf16, ['asimd', 'i8mm'])).toEqual({ asimd: 'OFF', i8mm: 'OFF' });
  });

  it('refuses a source that reads the CPU differently, and one without the file, saying how to build unpinned', () => {
    const other = sourceWith('set(CPUINFO "")\n');
    expect(() => isaPinEdit.apply(other)).toThrow(VllmWheelsError);
    expect(() => isaPinEdit.apply(other)).toThrow(/detects the CPU differently\. Set "pinIsa": false/);
    expect(() => isaPinEdit.apply(tempDir('isa-pin-empty'))).toThrow(/does not exist in this vLLM source\. Set "pinIsa": false/);
  });
});

describe('droppedIsaWatcher', () => {
  const seen = (isa: Parameters<typeof droppedIsaWatcher>[0], lines: string[]) => {
    const w = droppedIsaWatcher(isa);
    lines.forEach((l) => w.onLine(l));
    return w.problems();
  };
  // vLLM's aarch64 branch (0.16.0 and 0.34.0 alike) when neither cpuinfo nor VLLM_CPU_ARM_BF16 has BF16.
  const armWarning = ['CMake Warning at cmake/cpu_extension.cmake:217 (message):', '  BF16 functionality is not available'];
  const x86Warning = ['CMake Warning at cmake/cpu_extension.cmake:140 (message):', '  Disable AVX512-BF16 ISA support, requires gcc/g++ >= 12.3'];

  it("fails an aarch64 build of bf16 or above that vLLM built without BF16, and only of its own architecture's levels", () => {
    expect(seen('bf16', armWarning)).toEqual(['BF16 functionality is not available']);
    expect(seen('sve2', armWarning)).toEqual(['BF16 functionality is not available']);
    expect(seen('dotprod', armWarning)).toEqual([]);
    expect(seen('amxbf16', armWarning)).toEqual([]);
    expect(seen('sve2', x86Warning)).toEqual([]);
    expect(seen('avx512bf16', x86Warning)).toEqual(['Disable AVX512-BF16 ISA support, requires gcc/g++ >= 12.3']);
  });
});
