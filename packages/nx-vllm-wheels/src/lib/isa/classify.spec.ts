import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../test-support/temp';
import { run } from '../process';
import { classify, exceeds, ISA_EXTENSIONS, ISA_LEVEL, levelOf, type IsaExtension } from './classify';
import { ALLOWED_EXTENSIONS, DEFINING_EXTENSION, X86_EXTENSIONS, X86_LEVELS } from './model';
import { TOOL_ENV } from './test-support/libs';

describe('classify', () => {
  it.each<[string, IsaExtension | undefined]>([
    // Baseline x86-64, SSE and BMI: every avx2 CPU has them.
    ['mov    %rdi,%rax', undefined],
    ['addps  %xmm1,%xmm0', undefined],
    ['pshufb %xmm1,%xmm0', undefined],
    ['shlx   %eax,%ebx,%ecx', undefined],
    ['sub    $0x8,%rsp', undefined],
    ['lea    0x0(,%rax,4),%rdx', undefined],
    ['test   %eax,%eax', undefined],
    ['tzcnt  %eax,%ebx', undefined],
    ['ret', undefined],
    ['cs nopw 0x0(%rax,%rax,1)', undefined],
    // VMX and segment verification start with "v" but are not AVX.
    ['vmcall', undefined],
    ['vmread %rax,%rbx', undefined],
    ['verw   %ax', undefined],
    // AVX, AVX2, FMA, F16C (VEX).
    ['vpaddd %ymm1,%ymm2,%ymm0', 'avx2'],
    ['vaddps %xmm1,%xmm2,%xmm0', 'avx2'],
    ['vmovdqu (%rdi),%xmm0', 'avx2'],
    ['vzeroupper', 'avx2'],
    ['vpbroadcastd %xmm0,%ymm1', 'avx2'],
    ['vpbroadcastb (%rcx),%xmm0', 'avx2'],
    ['vperm2i128 $0x1,%ymm1,%ymm2,%ymm3', 'avx2'],
    ['vpermq $0x1,%ymm1,%ymm3', 'avx2'],
    ['vpgatherdd %xmm1,(%rax,%xmm2,4),%xmm3', 'avx2'],
    ['vfmadd132ps (%rsi,%rax,1),%ymm1,%ymm0', 'avx2'],
    ['vcvtph2ps %xmm1,%xmm2', 'avx2'],
    ['vcvtps2ph $0x0,%xmm1,%xmm2', 'avx2'],
    ['vmovss 0xe8c(%rip),%xmm0        # 2004 <_fini+0x10>', 'avx2'],
    // EVEX: operands only EVEX can encode.
    ['vpaddd %zmm1,%zmm2,%zmm0', 'avx512'],
    ['vpaddd %ymm1,%ymm2,%ymm0{%k1}', 'avx512'],
    ['vpaddd %ymm1,%ymm2,%ymm0{%k1}{z}', 'avx512'],
    ['vpaddd %xmm17,%xmm2,%xmm0', 'avx512'],
    ['vpshufb %ymm1,%ymm2,%ymm31', 'avx512'],
    ['vmovd  %xmm17,%eax', 'avx512'],
    ['vaddps (%rax){1to16},%zmm1,%zmm2', 'avx512'],
    ['vaddps (%rax){1to4},%xmm1,%xmm2', 'avx512'],
    ['vaddps {rn-sae},%zmm1,%zmm2,%zmm3', 'avx512'],
    ['vcvtsi2ss %eax,{rz-sae},%xmm1,%xmm2', 'avx512'],
    ['vcmpeqps {sae},%zmm1,%zmm2,%k1', 'avx512'],
    ['vpcmpeqd %ymm1,%ymm2,%k1', 'avx512'],
    ['kmovw  %k1,%eax', 'avx512'],
    ['kandw  %k1,%k2,%k3', 'avx512'],
    ['kshiftrw $0x1,%k1,%k2', 'avx512'],
    // EVEX: the "{evex}" mark objdump prints when a VEX twin exists.
    ['{evex} vpaddd %ymm1,%ymm2,%ymm0', 'avx512'],
    ['{evex} vfmadd231ps 0x40(%rax),%ymm1,%ymm2', 'avx512'],
    // EVEX: mnemonics that only exist EVEX-encoded, with plain operands.
    ['vmovdqu32 (%rdx,%rax,1),%ymm1', 'avx512'],
    ['vmovdqa64 %ymm1,%ymm2', 'avx512'],
    ['vpxord %xmm1,%xmm2,%xmm3', 'avx512'],
    ['vpternlogd $0xff,%xmm1,%xmm2,%xmm3', 'avx512'],
    ['vpermt2d %xmm1,%xmm2,%xmm3', 'avx512'],
    ['vpermi2ps %xmm1,%xmm2,%xmm3', 'avx512'],
    ['valignq $0x1,%xmm1,%xmm2,%xmm3', 'avx512'],
    ['vpcompressd %xmm1,%xmm2', 'avx512'],
    ['vexpandps %xmm1,%xmm2', 'avx512'],
    ['vscalefps %xmm1,%xmm2,%xmm3', 'avx512'],
    ['vrndscaleps $0x1,%xmm1,%xmm2', 'avx512'],
    ['vgetexpps %xmm1,%xmm2', 'avx512'],
    ['vfixupimmps $0x1,%xmm1,%xmm2,%xmm3', 'avx512'],
    ['vpconflictd %xmm1,%xmm2', 'avx512'],
    ['vplzcntq %xmm1,%xmm2', 'avx512'],
    ['vpmadd52luq %ymm1,%ymm2,%ymm3', 'avx512ifma'],
    ['vaddph %xmm1,%xmm2,%xmm3', 'avx512fp16'],
    // EVEX forms whose mnemonic also has a VEX form: told apart by the operands.
    ['vpbroadcastd %eax,%xmm1', 'avx512'],
    ['vpbroadcastq %r8,%ymm1', 'avx512'],
    ['vpermq %ymm1,%ymm2,%ymm3', 'avx512'],
    // AVX-512 VNNI, and AVX-VNNI (VEX, named apart, same level).
    ['vpdpbusd (%rdx,%rax,1),%zmm1,%zmm0', 'avx512vnni'],
    ['vpdpbusds %xmm1,%xmm2,%xmm3', 'avx512vnni'],
    ['vpdpwssd %ymm1,%ymm2,%ymm3{%k1}{z}', 'avx512vnni'],
    ['vpdpwssds %zmm1,%zmm2,%zmm3', 'avx512vnni'],
    ['{vex} vpdpbusd %ymm1,%ymm2,%ymm3', 'avxvnni'],
    ['{vex} vpdpwssds %xmm1,%xmm2,%xmm3', 'avxvnni'],
    // AVX-512 BF16.
    ['vcvtne2ps2bf16 %zmm1,%zmm2,%zmm3', 'avx512bf16'],
    ['vcvtneps2bf16 %zmm1,%ymm2', 'avx512bf16'],
    ['vcvtneps2bf16x (%rax),%xmm2', 'avx512bf16'],
    ['vdpbf16ps %zmm2,%zmm1,%zmm0', 'avx512bf16'],
    // AMX.
    ['ldtilecfg (%rdi)', 'amxtile'],
    ['sttilecfg (%rax)', 'amxtile'],
    ['tileloadd (%rsi,%rax,1),%tmm1', 'amxtile'],
    ['tileloaddt1 (%rax,%rcx,1),%tmm0', 'amxtile'],
    ['tilestored %tmm0,(%rcx,%rax,1)', 'amxtile'],
    ['tilerelease', 'amxtile'],
    ['tilezero %tmm0', 'amxtile'],
    ['tdpbf16ps %tmm2,%tmm1,%tmm0', 'amxbf16'],
    ['tdpbssd %tmm1,%tmm2,%tmm3', 'amxint8'],
    ['tdpbuud %tmm1,%tmm2,%tmm3', 'amxint8'],
    // VEX extensions after AVX-512 that no level guarantees.
    ['{vex} vpmadd52luq %ymm1,%ymm2,%ymm3', 'avxifma'],
    ['{vex} vcvtneps2bf16 %ymm1,%xmm2', 'avxneconvert'],
    ['vbcstnesh2ps (%rax),%xmm1', 'avxneconvert'],
    ['vpdpbssd %xmm1,%xmm2,%xmm3', 'avxvnniint8'],
    // AVX-512 sub-extensions after F/CD/BW/DQ/VL: each its own.
    ['vpermb %zmm1,%zmm2,%zmm3', 'avx512vbmi'],
    ['vpmultishiftqb %ymm1,%ymm2,%ymm3', 'avx512vbmi'],
    ['vpshldd $0x1,%zmm1,%zmm2,%zmm3', 'avx512vbmi2'],
    ['vpcompressb %zmm1,(%rax)', 'avx512vbmi2'],
    ['vpmadd52huq %zmm1,%zmm2,%zmm3', 'avx512ifma'],
    ['vpopcntd %zmm1,%zmm2', 'avx512vpopcntdq'],
    ['vpopcntb %zmm1,%zmm2', 'avx512bitalg'],
    ['vpshufbitqmb %zmm1,%zmm2,%k1', 'avx512bitalg'],
    ['vaddph %zmm1,%zmm2,%zmm3', 'avx512fp16'],
    ['vcmpltph %zmm1,%zmm2,%k1', 'avx512fp16'],
    ['vmovw  %xmm1,%eax', 'avx512fp16'],
    ['vcvtph2psx %ymm1,%zmm2', 'avx512fp16'],
    ['vcvtph2ps %ymm1,%zmm2', 'avx512'],
    ['vp2intersectd %zmm1,%zmm2,%k2', 'avx512vp2intersect'],
    ['vexp2ps %zmm1,%zmm2', 'avx512phi'],
    // GFNI in any encoding; VAES/VPCLMULQDQ by width (xmm VEX: AES-NI/PCLMUL, as every avx2 CPU has).
    ['gf2p8mulb %xmm1,%xmm2', 'gfni'],
    ['vgf2p8affineqb $0x1,%zmm1,%zmm2,%zmm3', 'gfni'],
    ['vaesenc %zmm1,%zmm2,%zmm3', 'avx512vaes'],
    ['vaesenc %ymm17,%ymm2,%ymm3', 'avx512vaes'],
    ['{evex} vaesenc %xmm1,%xmm2,%xmm3', 'avx512vaes'],
    ['vpclmullqlqdq %zmm1,%zmm2,%zmm3', 'avx512vaes'],
    ['vaesenc %ymm1,%ymm2,%ymm3', 'vaes'],
    ['vaesenc %xmm1,%xmm2,%xmm3', 'avx2'],
    // AMX parts.
    ['tdpfp16ps %tmm1,%tmm2,%tmm3', 'amxfp16'],
    ['tcmmimfp16ps %tmm1,%tmm2,%tmm3', 'amxcomplex'],
    ['tdpbf8ps %tmm1,%tmm2,%tmm3', 'amxfp8'],
    ['tdphf8ps %tmm1,%tmm2,%tmm3', 'amxfp8'],
    ['tdpnew %tmm1,%tmm2,%tmm3', 'amxother'],
    ['test   %eax,%eax', undefined],
    ['tzcnt  %eax,%ebx', undefined],
  ])('%s -> %s', (line, expected) => {
    expect(classify(line)).toBe(expected);
  });

  it('classifies what objdump 2.40 prints for real encodings of each extension', async () => {
    // [assembly, expected]: assembled with as, read back with objdump, classified line by line.
    const cases: [string, IsaExtension | undefined][] = [
      ['addps %xmm1,%xmm0', undefined],
      ['andn %eax,%ebx,%ecx', undefined],
      ['vmcall', undefined],
      ['verw %ax', undefined],
      ['vaddps %xmm1,%xmm2,%xmm0', 'avx2'],
      ['vpaddd %ymm1,%ymm2,%ymm0', 'avx2'],
      ['vpbroadcastd %xmm0,%ymm1', 'avx2'],
      ['vperm2i128 $1,%ymm1,%ymm2,%ymm3', 'avx2'],
      ['vpermd %ymm1,%ymm2,%ymm3', 'avx2'],
      ['vpermq $1,%ymm1,%ymm3', 'avx2'],
      ['vpgatherdd %xmm1,(%rax,%xmm2,4),%xmm3', 'avx2'],
      ['vfnmadd213sd %xmm1,%xmm2,%xmm3', 'avx2'],
      ['vcvtph2ps %xmm1,%xmm2', 'avx2'],
      ['vcvtps2ph $0,%xmm1,%xmm2', 'avx2'],
      ['vzeroupper', 'avx2'],
      ['vpaddd %zmm1,%zmm2,%zmm0', 'avx512'],
      ['vpaddd %xmm17,%xmm2,%xmm0', 'avx512'],
      ['vpaddd %ymm1,%ymm2,%ymm0{%k1}{z}', 'avx512'],
      ['vaddps (%rax){1to16},%zmm1,%zmm2', 'avx512'],
      ['vaddps {rn-sae},%zmm1,%zmm2,%zmm3', 'avx512'],
      ['vcmpps $0,{sae},%zmm1,%zmm2,%k1', 'avx512'],
      ['{evex} vpaddd %ymm1,%ymm2,%ymm0', 'avx512'],
      ['{evex} vmovups (%rdi),%xmm0', 'avx512'],
      ['vmovdqu32 (%rdi),%ymm0', 'avx512'],
      ['vpandq %ymm1,%ymm2,%ymm3', 'avx512'],
      ['vpbroadcastd %eax,%xmm1', 'avx512'],
      ['vpermq %ymm1,%ymm2,%ymm3', 'avx512'],
      ['vpternlogd $0xff,%xmm1,%xmm2,%xmm3', 'avx512'],
      ['vpermt2d %xmm1,%xmm2,%xmm3', 'avx512'],
      ['valignd $1,%xmm1,%xmm2,%xmm3', 'avx512'],
      ['vpcompressd %xmm1,%xmm2', 'avx512'],
      ['vpmovm2d %k1,%xmm2', 'avx512'],
      ['kmovw %k1,%eax', 'avx512'],
      ['kxorq %k1,%k2,%k3', 'avx512'],
      ['vscalefps %xmm1,%xmm2,%xmm3', 'avx512'],
      ['vrndscaleps $1,%xmm1,%xmm2', 'avx512'],
      ['vgetexpps %xmm1,%xmm2', 'avx512'],
      ['vfixupimmps $1,%xmm1,%xmm2,%xmm3', 'avx512'],
      ['vpconflictd %xmm1,%xmm2', 'avx512'],
      ['vplzcntd %xmm1,%xmm2', 'avx512'],
      ['vpdpbusd %zmm1,%zmm2,%zmm3', 'avx512vnni'],
      ['vpdpbusds %xmm1,%xmm2,%xmm3', 'avx512vnni'],
      ['vpdpwssd %ymm1,%ymm2,%ymm3', 'avx512vnni'],
      ['vpdpwssds %zmm1,%zmm2,%zmm3', 'avx512vnni'],
      ['{vex} vpdpbusd %ymm1,%ymm2,%ymm3', 'avxvnni'],
      ['vcvtne2ps2bf16 %zmm1,%zmm2,%zmm3', 'avx512bf16'],
      ['vcvtneps2bf16 %xmm1,%xmm2', 'avx512bf16'],
      ['vcvtneps2bf16y (%rax),%xmm2', 'avx512bf16'],
      ['vdpbf16ps %zmm1,%zmm2,%zmm3', 'avx512bf16'],
      ['ldtilecfg (%rax)', 'amxtile'],
      ['sttilecfg (%rax)', 'amxtile'],
      ['tileloadd (%rax,%rcx,1),%tmm0', 'amxtile'],
      ['tileloaddt1 (%rax,%rcx,1),%tmm0', 'amxtile'],
      ['tilestored %tmm0,(%rax,%rcx,1)', 'amxtile'],
      ['tilerelease', 'amxtile'],
      ['tilezero %tmm1', 'amxtile'],
      ['tdpbf16ps %tmm1,%tmm2,%tmm3', 'amxbf16'],
      ['tdpbssd %tmm1,%tmm2,%tmm3', 'amxint8'],
      ['tdpbsud %tmm1,%tmm2,%tmm3', 'amxint8'],
      ['tdpbusd %tmm1,%tmm2,%tmm3', 'amxint8'],
      ['tdpbuud %tmm1,%tmm2,%tmm3', 'amxint8'],
      ['{vex} vpmadd52luq %ymm1,%ymm2,%ymm3', 'avxifma'],
      ['{vex} vcvtneps2bf16 %ymm1,%xmm2', 'avxneconvert'],
      ['vpdpbssd %xmm1,%xmm2,%xmm3', 'avxvnniint8'],
      ['vpermb %zmm1,%zmm2,%zmm3', 'avx512vbmi'],
      ['vpshldvw %ymm1,%ymm2,%ymm3', 'avx512vbmi2'],
      ['vpexpandw %xmm1,%xmm2', 'avx512vbmi2'],
      ['vpmadd52luq %zmm1,%zmm2,%zmm3', 'avx512ifma'],
      ['vpopcntq %xmm1,%xmm2', 'avx512vpopcntdq'],
      ['vpopcntw %ymm1,%ymm2', 'avx512bitalg'],
      ['vaddph %zmm1,%zmm2,%zmm3', 'avx512fp16'],
      ['vcmpph $1,%zmm1,%zmm2,%k1', 'avx512fp16'],
      ['vcmpsh $0,%xmm1,%xmm2,%k1', 'avx512fp16'],
      ['vmovw %xmm1,%eax', 'avx512fp16'],
      ['vfmadd231ph %ymm1,%ymm2,%ymm3', 'avx512fp16'],
      ['vcvtps2phx %zmm1,%ymm2', 'avx512fp16'],
      ['vcvtph2ps %ymm1,%zmm2', 'avx512'],
      ['vp2intersectq %zmm1,%zmm2,%k2', 'avx512vp2intersect'],
      ['gf2p8affineqb $1,%xmm1,%xmm2', 'gfni'],
      ['vgf2p8mulb %ymm1,%ymm2,%ymm3', 'gfni'],
      ['vgf2p8mulb %zmm1,%zmm2,%zmm3', 'gfni'],
      ['vaesenc %zmm1,%zmm2,%zmm3', 'avx512vaes'],
      ['vaesdeclast %ymm21,%ymm2,%ymm3', 'avx512vaes'],
      ['vpclmulqdq $0x11,%zmm1,%zmm2,%zmm3', 'avx512vaes'],
      ['vaesenc %ymm1,%ymm2,%ymm3', 'vaes'],
      ['vpclmulqdq $0,%ymm1,%ymm2,%ymm3', 'vaes'],
      ['vaesenc %xmm1,%xmm2,%xmm3', 'avx2'],
      ['vexp2pd %zmm1,%zmm2', 'avx512phi'],
      ['tdpfp16ps %tmm1,%tmm2,%tmm3', 'amxfp16'],
    ];
    const dir = tempDir('isa-as');
    writeFileSync(join(dir, 'probe.s'), `.text\nprobe:\n${cases.map(([a]) => ` ${a}\n`).join('')}`);
    await run('as', ['probe.s', '-o', 'probe.o'], { cwd: dir, env: TOOL_ENV, timeoutMs: 30_000 });
    const { stdout } = await run('objdump', ['-d', '--no-show-raw-insn', '-M', 'att', 'probe.o'], { cwd: dir, env: TOOL_ENV, timeoutMs: 30_000 });
    const printed = stdout
      .split('\n')
      .filter((l) => /^\s+[0-9a-f]+:\t/.test(l))
      .map((l) => l.slice(l.indexOf('\t') + 1));
    expect(printed).toHaveLength(cases.length);
    const got = printed.map((p, i) => [cases[i][0], p, classify(p)]);
    expect(got).toEqual(cases.map(([a, e], i) => [a, printed[i], e]));
  });
});

/**
 * Every EVEX (or VEX) opcode of the given maps, as 16-byte slots: prefix, opcode, a register or a
 * memory ModRM, then NOPs (0x90), which also serve as the imm8 of opcodes that take one. W, pp, L and
 * vvvv vary; registers are 0-15 and there is no mask, zeroing or broadcast, so nothing in the operands
 * gives EVEX away.
 */
function opcodeSweep(kind: 'evex' | 'vex'): Buffer {
  const slots: Buffer[] = [];
  for (const map of kind === 'evex' ? [1, 2, 3, 5, 6] : [1, 2, 3])
    for (const w of [0, 1])
      for (const pp of [0, 1, 2, 3])
        for (const l of [0, 1])
          for (const vvvv of [0xf, 0xe])
            for (let op = 0; op < 256; op++)
              for (const modrm of [0xc1, 0x01]) {
                const insn =
                  kind === 'evex'
                    ? [0x62, 0xf0 | map, (w << 7) | (vvvv << 3) | 0x4 | pp, (l << 5) | 0x08, op, modrm]
                    : [0xc4, 0xe0 | map, (w << 7) | (vvvv << 3) | (l << 2) | pp, op, modrm];
                slots.push(Buffer.from([...insn, ...new Array(16 - insn.length).fill(0x90)]));
              }
  return Buffer.concat(slots);
}

async function disassembleSweep(kind: 'evex' | 'vex'): Promise<string[]> {
  const dir = tempDir('isa-sweep');
  writeFileSync(join(dir, 'sweep.bin'), opcodeSweep(kind));
  // Through a file: the listing is larger than what run() keeps of a command's output.
  await run('sh', ['-c', 'objdump -D -b binary -m i386:x86-64 --no-show-raw-insn -M att sweep.bin > sweep.txt'], { cwd: dir, env: TOOL_ENV, timeoutMs: 120_000 });
  const stdout = readFileSync(join(dir, 'sweep.txt'), 'utf8');
  // Only the slots' first instructions (offsets multiple of 16), and only what objdump could decode.
  return stdout
    .split('\n')
    .filter((l) => /^\s*[0-9a-f]*0:\t/.test(l) && !l.includes('(bad)') && !l.includes('{bad}'))
    .map((l) => l.slice(l.indexOf('\t') + 1).trim());
}

describe('classify over every opcode objdump decodes', () => {
  it('puts every EVEX encoding at avx512 or above', async () => {
    const lines = await disassembleSweep('evex');
    expect(lines.length).toBeGreaterThan(3000);
    // objdump 2.40 prints these EVEX forms exactly like their VEX (AVX2) twins, without "{evex}": no
    // text-only classifier can tell them apart. gcc + gas never emit them (gas picks VEX when it can).
    const indistinguishable = /^vps(llv|rav|rlv)[dq] %[xy]mm\d,%[xy]mm\d,%[xy]mm\d$|^vps(llv|rav|rlv)[dq] \(%rcx\),%[xy]mm\d,%[xy]mm\d$/;
    const wrong = lines.filter((l) => !indistinguishable.test(l) && (classify(l) === undefined || classify(l) === 'avx2'));
    expect(wrong).toEqual([]);
  });

  it('never calls a VEX encoding avx512, except the opmask (k*) instructions', async () => {
    const lines = await disassembleSweep('vex');
    expect(lines.length).toBeGreaterThan(2000);
    const wrong = lines.filter((l) => classify(l) === 'avx512' && !l.startsWith('k'));
    expect(wrong).toEqual([]);
    const plainVex = lines.filter((l) => l.startsWith('v') && !l.startsWith('{'));
    // GFNI and VAES/VPCLMULQDQ on ymm are VEX too, and no level allows them.
    expect(new Set(plainVex.map(classify))).toEqual(new Set(['avx2', 'avxneconvert', 'avxvnniint8', 'gfni', 'vaes']));
  });
});

describe('levels', () => {
  it('allows exactly the extensions each level adds, AVX-VNNI and AMX-INT8 with AMX-BF16 (every AMX CPU has them), the rest nowhere', () => {
    expect(X86_LEVELS.map((l) => [l, [...ALLOWED_EXTENSIONS[l]]])).toEqual([
      ['avx2', ['avx2']],
      ['avx512', ['avx2', 'avx512']],
      ['avx512vnni', ['avx2', 'avx512', 'avx512vnni']],
      ['avx512bf16', ['avx2', 'avx512', 'avx512vnni', 'avx512bf16']],
      ['amxbf16', ['avx2', 'avx512', 'avx512vnni', 'avx512bf16', 'amxtile', 'amxbf16', 'amxint8', 'avxvnni']],
      ['amxfp8', ['avx2', 'avx512', 'avx512vnni', 'avx512bf16', 'amxtile', 'amxbf16', 'amxint8', 'avxvnni', 'amxfp8']],
    ]);
    expect(X86_EXTENSIONS.filter((e) => levelOf(e) === null)).toEqual([
      'avx512vbmi', 'avx512vbmi2', 'avx512ifma', 'avx512vpopcntdq', 'avx512bitalg', 'avx512fp16', 'avx512vp2intersect', 'avx512vaes',
      'avx512phi', 'vaes', 'gfni', 'avxifma', 'avxneconvert', 'avxvnniint8', 'amxfp16', 'amxcomplex', 'amxother',
    ]);
    expect(Object.keys(ISA_LEVEL).sort()).toEqual([...ISA_EXTENSIONS].sort());
    for (const level of X86_LEVELS) expect(ALLOWED_EXTENSIONS[level].has(DEFINING_EXTENSION[level])).toBe(true);
  });

  it('exceeds follows the order avx2 < avx512 < avx512vnni < avx512bf16 < amxbf16', () => {
    expect(exceeds('avx2', 'avx2')).toBe(false);
    expect(exceeds('avx512', 'avx2')).toBe(true);
    expect(exceeds('avx512', 'avx512')).toBe(false);
    expect(exceeds('avx512vnni', 'avx512')).toBe(true);
    expect(exceeds('avxvnni', 'avx512bf16')).toBe(true);
    expect(exceeds('avxvnni', 'amxbf16')).toBe(false);
    expect(exceeds('avx512bf16', 'avx512vnni')).toBe(true);
    expect(exceeds('amxbf16', 'avx512bf16')).toBe(true);
    expect(exceeds('amxbf16', 'amxbf16')).toBe(false);
    expect(exceeds('avx2', 'amxbf16')).toBe(false);
    expect(exceeds('avxifma', 'amxbf16')).toBe(true);
    expect(exceeds('avx512fp16', 'amxfp8')).toBe(true);
    expect(exceeds('amxfp8', 'amxbf16')).toBe(true);
    expect(exceeds('amxfp8', 'amxfp8')).toBe(false);
  });
});
