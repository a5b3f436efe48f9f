import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../test-support/temp';
import { VllmWheelsError } from '../errors';
import { isaPinEdit, PINNED_CPU_FLAGS, PINNED_FLAGS_VARIABLE } from './isa-pin';

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
function foundIsas(dir: string, pinned: string | undefined): Record<string, string> {
  const probe = join(dir, 'probe.cmake');
  const isas = ['avx2', 'avx512f', 'avx512_vnni', 'avx512_bf16', 'amx_bf16'];
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

  it('refuses a source that reads the CPU differently, and one without the file, saying how to build unpinned', () => {
    const other = sourceWith('set(CPUINFO "")\n');
    expect(() => isaPinEdit.apply(other)).toThrow(VllmWheelsError);
    expect(() => isaPinEdit.apply(other)).toThrow(/detects the CPU differently\. Set "pinIsa": false/);
    expect(() => isaPinEdit.apply(tempDir('isa-pin-empty'))).toThrow(/does not exist in this vLLM source\. Set "pinIsa": false/);
  });
});
