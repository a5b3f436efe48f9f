/**
 * Mnemonic tables of the ISA classifier, as objdump (binutils 2.40, AT&T syntax) spells them. Data only;
 * the rules that use them are in classify.ts.
 *
 * How the tables were checked: every listed spelling was assembled with `as` and read back with
 * `objdump -d --no-show-raw-insn -M att` (classify.spec.ts does this again on every run), and
 * EVEX_ONLY was derived by disassembling every EVEX opcode (maps 1, 2, 3, 5, 6; W, pp, L and vvvv
 * varied; register and memory forms; registers 0-15, no mask, no broadcast) and keeping the mnemonics
 * that objdump prints without any EVEX mark and that no VEX opcode prints plain.
 */

/** AVX-512 BF16 (EVEX). The `x`/`y` suffixes are objdump's memory forms (`vcvtneps2bf16x (%rax),%xmm2`). */
export const AVX512_BF16 = ['vcvtne2ps2bf16', 'vcvtneps2bf16', 'vcvtneps2bf16x', 'vcvtneps2bf16y', 'vdpbf16ps'] as const;

/** AVX-512 VNNI when printed plain (EVEX); objdump prints the AVX-VNNI (VEX) forms as `{vex} vpdpbusd`. */
export const AVX512_VNNI = ['vpdpbusd', 'vpdpbusds', 'vpdpwssd', 'vpdpwssds'] as const;

/** VEX-only AVX-NE-CONVERT, printed plain (its `vcvtneps2bf16` form is printed `{vex} vcvtneps2bf16`). */
export const AVX_NE_CONVERT = ['vbcstnebf162ps', 'vbcstnesh2ps', 'vcvtneebf162ps', 'vcvtneeph2ps', 'vcvtneobf162ps', 'vcvtneoph2ps'] as const;

/** VEX-only AVX-VNNI-INT8. */
export const AVX_VNNI_INT8 = ['vpdpbssd', 'vpdpbssds', 'vpdpbsud', 'vpdpbsuds', 'vpdpbuud', 'vpdpbuuds'] as const;

/** AMX-TILE: mnemonics starting with "tile" (tileloadd, tileloaddt1, tilestored, tilerelease, tilezero), and these. */
export const AMX_TILE = ['ldtilecfg', 'sttilecfg'] as const;
export const AMX_BF16 = ['tdpbf16ps'] as const;
export const AMX_INT8 = ['tdpbssd', 'tdpbsud', 'tdpbusd', 'tdpbuud'] as const;
export const AMX_FP16 = ['tdpfp16ps'] as const;
export const AMX_COMPLEX = ['tcmmimfp16ps', 'tcmmrlfp16ps'] as const;
/** AMX-FP8 as binutils >= 2.44 prints it (2.40 cannot decode it: see disassemble.ts). */
export const AMX_FP8 = ['tdpbf8ps', 'tdpbhf8ps', 'tdphbf8ps', 'tdphf8ps'] as const;
/** Any other mnemonic starting with these is AMX too (a newer part: amxother). */
export const AMX_PREFIXES = ['tdp', 'tcmm', 't2rp', 'ttdp', 'ttcmm', 'tmmul', 'tcvt'] as const;

/**
 * The EVEX-only AVX-512 sub-extensions after F/CD/BW/DQ/VL, each its own CPUID bit (all in EVEX_ONLY
 * too). objdump prints FP16 compares as `vcmp<predicate>ph`/`sh` (classify.ts takes those by pattern).
 */
export const AVX512_VBMI = ['vpermb', 'vpermi2b', 'vpermt2b', 'vpmultishiftqb'] as const;
export const AVX512_VBMI2 = [
  'vpcompressb', 'vpcompressw', 'vpexpandb', 'vpexpandw', 'vpshldd', 'vpshldq', 'vpshldvd', 'vpshldvq', 'vpshldvw', 'vpshldw',
  'vpshrdd', 'vpshrdq', 'vpshrdvd', 'vpshrdvq', 'vpshrdvw', 'vpshrdw',
] as const;
export const AVX512_IFMA = ['vpmadd52huq', 'vpmadd52luq'] as const;
export const AVX512_VPOPCNTDQ = ['vpopcntd', 'vpopcntq'] as const;
export const AVX512_BITALG = ['vpopcntb', 'vpopcntw', 'vpshufbitqmb'] as const;
export const AVX512_VP2INTERSECT = ['vp2intersectd', 'vp2intersectq'] as const;
export const AVX512_PHI = [
  'v4fmaddps', 'v4fmaddss', 'v4fnmaddps', 'v4fnmaddss', 'vp4dpwssd', 'vp4dpwssds', 'vexp2pd', 'vexp2ps', 'vrcp28pd', 'vrcp28ps',
  'vrcp28sd', 'vrcp28ss', 'vrsqrt28pd', 'vrsqrt28ps', 'vrsqrt28sd', 'vrsqrt28ss', 'vgatherpf0dpd', 'vgatherpf0dps', 'vgatherpf0qpd',
  'vgatherpf0qps', 'vgatherpf1dpd', 'vgatherpf1dps', 'vgatherpf1qpd', 'vgatherpf1qps', 'vscatterpf0dpd', 'vscatterpf0dps',
  'vscatterpf0qpd', 'vscatterpf0qps', 'vscatterpf1dpd', 'vscatterpf1dps', 'vscatterpf1qpd', 'vscatterpf1qps',
] as const;
export const AVX512_FP16 = [
  'vaddph', 'vaddsh', 'vcomish', 'vcvtdq2ph', 'vcvtdq2phx', 'vcvtdq2phy', 'vcvtpd2ph', 'vcvtpd2phx', 'vcvtpd2phy', 'vcvtph2dq',
  'vcvtph2pd', 'vcvtph2psx', 'vcvtph2qq', 'vcvtph2udq', 'vcvtph2uqq', 'vcvtph2uw', 'vcvtph2w', 'vcvtps2phx', 'vcvtps2phxx',
  'vcvtps2phxy', 'vcvtqq2ph', 'vcvtqq2phx', 'vcvtqq2phy', 'vcvtsd2sh', 'vcvtsh2sd', 'vcvtsh2si', 'vcvtsh2ss', 'vcvtsh2usi',
  'vcvtsi2sh', 'vcvtsi2shl', 'vcvtsi2shq', 'vcvtss2sh', 'vcvttph2dq', 'vcvttph2qq', 'vcvttph2udq', 'vcvttph2uqq', 'vcvttph2uw',
  'vcvttph2w', 'vcvttsh2si', 'vcvttsh2usi', 'vcvtudq2ph', 'vcvtudq2phx', 'vcvtudq2phy', 'vcvtuqq2ph', 'vcvtuqq2phx', 'vcvtuqq2phy',
  'vcvtusi2sh', 'vcvtusi2shl', 'vcvtusi2shq', 'vcvtuw2ph', 'vcvtw2ph', 'vdivph', 'vdivsh', 'vfcmaddcph', 'vfcmaddcsh', 'vfcmulcph',
  'vfcmulcsh', 'vfmadd132ph', 'vfmadd132sh', 'vfmadd213ph', 'vfmadd213sh', 'vfmadd231ph', 'vfmadd231sh', 'vfmaddcph', 'vfmaddcsh',
  'vfmaddsub132ph', 'vfmaddsub213ph', 'vfmaddsub231ph', 'vfmsub132ph', 'vfmsub132sh', 'vfmsub213ph', 'vfmsub213sh', 'vfmsub231ph',
  'vfmsub231sh', 'vfmsubadd132ph', 'vfmsubadd213ph', 'vfmsubadd231ph', 'vfmulcph', 'vfmulcsh', 'vfnmadd132ph', 'vfnmadd132sh',
  'vfnmadd213ph', 'vfnmadd213sh', 'vfnmadd231ph', 'vfnmadd231sh', 'vfnmsub132ph', 'vfnmsub132sh', 'vfnmsub213ph', 'vfnmsub213sh',
  'vfnmsub231ph', 'vfnmsub231sh', 'vfpclassph', 'vfpclassphx', 'vfpclassphy', 'vfpclasssh', 'vgetexpph', 'vgetexpsh', 'vgetmantph',
  'vgetmantsh', 'vmaxph', 'vmaxsh', 'vminph', 'vminsh', 'vmovsh', 'vmovw', 'vmulph', 'vmulsh', 'vrcpph', 'vrcpsh', 'vreduceph',
  'vreducesh', 'vrndscaleph', 'vrndscalesh', 'vrsqrtph', 'vrsqrtsh', 'vscalefph', 'vscalefsh', 'vsqrtph', 'vsqrtsh', 'vsubph',
  'vsubsh', 'vucomish',
] as const;
/** VAES and VPCLMULQDQ (objdump prints vpclmulqdq with an immediate as vpclmul<lq|hq><lq|hq>dq). */
export const AES_CLMUL = [
  'vaesdec', 'vaesdeclast', 'vaesenc', 'vaesenclast', 'vpclmulqdq', 'vpclmullqlqdq', 'vpclmulhqlqdq', 'vpclmullqhqdq', 'vpclmulhqhqdq',
] as const;
/** GFNI, legacy (SSE) spelling; the VEX/EVEX ones are these with a "v". */
export const GFNI = ['gf2p8affineinvqb', 'gf2p8affineqb', 'gf2p8mulb'] as const;

/** AVX-512 opmask instructions (VEX-encoded, but only on AVX-512 CPUs): mnemonics starting with these. */
export const OPMASK_PREFIXES = ['kadd', 'kand', 'kmov', 'knot', 'kor', 'kshift', 'ktest', 'kunpck', 'kxnor', 'kxor'] as const;

/** Mnemonics starting with "v" that are not AVX: VMX/SVM and segment verification. */
export const NOT_AVX = [
  'verr', 'verw', 'vmcall', 'vmclear', 'vmfunc', 'vmgexit', 'vmlaunch', 'vmload', 'vmmcall', 'vmptrld', 'vmptrst', 'vmread',
  'vmresume', 'vmrun', 'vmsave', 'vmwrite', 'vmxoff', 'vmxon',
] as const;

/**
 * Mnemonics that only exist EVEX-encoded, so they mean AVX-512 even with plain xmm/ymm operands
 * (`vmovdqu32 (%rdi),%ymm0`, `vpxord %xmm1,%xmm2,%xmm3`). Derived from objdump (see above), plus the
 * EVEX-only mnemonics that always carry a mask operand (compares into %k, scatters), for completeness.
 * Includes AVX-512 FP16, IFMA, VBMI/VBMI2, BITALG, VPOPCNTDQ and the Xeon Phi extensions (the tables above
 * take those first).
 */
export const EVEX_ONLY = [
  'v4fmaddps', 'v4fmaddss', 'v4fnmaddps', 'v4fnmaddss', 'vaddph', 'vaddsh', 'valignd', 'valignq', 'vblendmpd',
  'vblendmps', 'vbroadcastf32x2', 'vbroadcastf32x4', 'vbroadcastf64x2', 'vbroadcasti32x2', 'vbroadcasti32x4',
  'vbroadcasti64x2', 'vcomish', 'vcompresspd', 'vcompressps', 'vcvtdq2ph', 'vcvtdq2phx', 'vcvtdq2phy', 'vcvtpd2ph',
  'vcvtpd2phx', 'vcvtpd2phy', 'vcvtpd2qq', 'vcvtpd2udq', 'vcvtpd2udqx', 'vcvtpd2udqy', 'vcvtpd2uqq', 'vcvtph2dq',
  'vcvtph2pd', 'vcvtph2psx', 'vcvtph2qq', 'vcvtph2udq', 'vcvtph2uqq', 'vcvtph2uw', 'vcvtph2w', 'vcvtps2phx',
  'vcvtps2phxx', 'vcvtps2phxy', 'vcvtps2qq', 'vcvtps2udq', 'vcvtps2uqq', 'vcvtqq2pd', 'vcvtqq2ph', 'vcvtqq2phx',
  'vcvtqq2phy', 'vcvtqq2ps', 'vcvtqq2psx', 'vcvtqq2psy', 'vcvtsd2sh', 'vcvtsd2usi', 'vcvtsh2sd', 'vcvtsh2si',
  'vcvtsh2ss', 'vcvtsh2usi', 'vcvtsi2sh', 'vcvtsi2shl', 'vcvtsi2shq', 'vcvtss2sh', 'vcvtss2usi', 'vcvttpd2qq',
  'vcvttpd2udq', 'vcvttpd2udqx', 'vcvttpd2udqy', 'vcvttpd2uqq', 'vcvttph2dq', 'vcvttph2qq', 'vcvttph2udq',
  'vcvttph2uqq', 'vcvttph2uw', 'vcvttph2w', 'vcvttps2qq', 'vcvttps2udq', 'vcvttps2uqq', 'vcvttsd2usi', 'vcvttsh2si',
  'vcvttsh2usi', 'vcvttss2usi', 'vcvtudq2pd', 'vcvtudq2ph', 'vcvtudq2phx', 'vcvtudq2phy', 'vcvtudq2ps', 'vcvtuqq2pd',
  'vcvtuqq2ph', 'vcvtuqq2phx', 'vcvtuqq2phy', 'vcvtuqq2ps', 'vcvtuqq2psx', 'vcvtuqq2psy', 'vcvtusi2sd',
  'vcvtusi2sdl', 'vcvtusi2sdq', 'vcvtusi2sh', 'vcvtusi2shl', 'vcvtusi2shq', 'vcvtusi2ss', 'vcvtusi2ssl',
  'vcvtusi2ssq', 'vcvtuw2ph', 'vcvtw2ph', 'vdbpsadbw', 'vdivph', 'vdivsh', 'vexp2pd', 'vexp2ps', 'vexpandpd',
  'vexpandps', 'vextractf32x4', 'vextractf64x2', 'vextracti32x4', 'vextracti64x2', 'vfcmaddcph', 'vfcmaddcsh',
  'vfcmulcph', 'vfcmulcsh', 'vfixupimmpd', 'vfixupimmps', 'vfixupimmsd', 'vfixupimmss', 'vfmadd132ph', 'vfmadd132sh',
  'vfmadd213ph', 'vfmadd213sh', 'vfmadd231ph', 'vfmadd231sh', 'vfmaddcph', 'vfmaddcsh', 'vfmaddsub132ph',
  'vfmaddsub213ph', 'vfmaddsub231ph', 'vfmsub132ph', 'vfmsub132sh', 'vfmsub213ph', 'vfmsub213sh', 'vfmsub231ph',
  'vfmsub231sh', 'vfmsubadd132ph', 'vfmsubadd213ph', 'vfmsubadd231ph', 'vfmulcph', 'vfmulcsh', 'vfnmadd132ph',
  'vfnmadd132sh', 'vfnmadd213ph', 'vfnmadd213sh', 'vfnmadd231ph', 'vfnmadd231sh', 'vfnmsub132ph', 'vfnmsub132sh',
  'vfnmsub213ph', 'vfnmsub213sh', 'vfnmsub231ph', 'vfnmsub231sh', 'vgetexppd', 'vgetexpph', 'vgetexpps', 'vgetexpsd',
  'vgetexpsh', 'vgetexpss', 'vgetmantpd', 'vgetmantph', 'vgetmantps', 'vgetmantsd', 'vgetmantsh', 'vgetmantss',
  'vinsertf32x4', 'vinsertf64x2', 'vinserti32x4', 'vinserti64x2', 'vmaxph', 'vmaxsh', 'vminph', 'vminsh',
  'vmovdqa32', 'vmovdqa64', 'vmovdqu16', 'vmovdqu32', 'vmovdqu64', 'vmovdqu8', 'vmovsh', 'vmovw', 'vmulph', 'vmulsh',
  'vp4dpwssd', 'vp4dpwssds', 'vpabsq', 'vpandd', 'vpandnd', 'vpandnq', 'vpandq', 'vpblendmb', 'vpblendmd',
  'vpblendmq', 'vpblendmw', 'vpcompressb', 'vpcompressd', 'vpcompressq', 'vpcompressw', 'vpconflictd', 'vpconflictq',
  'vpermb', 'vpermi2b', 'vpermi2d', 'vpermi2pd', 'vpermi2ps', 'vpermi2q', 'vpermi2w', 'vpermt2b', 'vpermt2d',
  'vpermt2pd', 'vpermt2ps', 'vpermt2q', 'vpermt2w', 'vpermw', 'vpexpandb', 'vpexpandd', 'vpexpandq', 'vpexpandw',
  'vplzcntd', 'vplzcntq', 'vpmadd52huq', 'vpmadd52luq', 'vpmaxsq', 'vpmaxuq', 'vpminsq', 'vpminuq', 'vpmovdb',
  'vpmovdw', 'vpmovqb', 'vpmovqd', 'vpmovqw', 'vpmovsdb', 'vpmovsdw', 'vpmovsqb', 'vpmovsqd', 'vpmovsqw', 'vpmovswb',
  'vpmovusdb', 'vpmovusdw', 'vpmovusqb', 'vpmovusqd', 'vpmovusqw', 'vpmovuswb', 'vpmovwb', 'vpmullq',
  'vpmultishiftqb', 'vpopcntb', 'vpopcntd', 'vpopcntq', 'vpopcntw', 'vpord', 'vporq', 'vprolvd', 'vprolvq', 'vprord',
  'vprorq', 'vprorvd', 'vprorvq', 'vpshldd', 'vpshldq', 'vpshldvd', 'vpshldvq', 'vpshldvw', 'vpshldw', 'vpshrdd',
  'vpshrdq', 'vpshrdvd', 'vpshrdvq', 'vpshrdvw', 'vpshrdw', 'vpsllvw', 'vpsraq', 'vpsravq', 'vpsravw', 'vpsrlvw',
  'vpternlogd', 'vpternlogq', 'vpxord', 'vpxorq', 'vrangepd', 'vrangeps', 'vrangesd', 'vrangess', 'vrcp14pd',
  'vrcp14ps', 'vrcp14sd', 'vrcp14ss', 'vrcp28pd', 'vrcp28ps', 'vrcp28sd', 'vrcp28ss', 'vrcpph', 'vrcpsh',
  'vreducepd', 'vreduceph', 'vreduceps', 'vreducesd', 'vreducesh', 'vreducess', 'vrndscalepd', 'vrndscaleph',
  'vrndscaleps', 'vrndscalesd', 'vrndscalesh', 'vrndscaless', 'vrsqrt14pd', 'vrsqrt14ps', 'vrsqrt14sd', 'vrsqrt14ss',
  'vrsqrt28pd', 'vrsqrt28ps', 'vrsqrt28sd', 'vrsqrt28ss', 'vrsqrtph', 'vrsqrtsh', 'vscalefpd', 'vscalefph',
  'vscalefps', 'vscalefsd', 'vscalefsh', 'vscalefss', 'vshuff32x4', 'vshuff64x2', 'vshufi32x4', 'vshufi64x2',
  'vsqrtph', 'vsqrtsh', 'vsubph', 'vsubsh', 'vucomish',
  // Always printed with a mask operand (so the operand rule sees them too).
  'vfpclasspd', 'vfpclasspdx', 'vfpclasspdy', 'vfpclassph', 'vfpclassphx', 'vfpclassphy', 'vfpclassps', 'vfpclasspsx',
  'vfpclasspsy', 'vfpclasssd', 'vfpclasssh', 'vfpclassss', 'vp2intersectd', 'vp2intersectq', 'vpbroadcastmb2q',
  'vpbroadcastmw2d', 'vpcmpb', 'vpcmpd', 'vpcmpq', 'vpcmpub', 'vpcmpud', 'vpcmpuq', 'vpcmpuw', 'vpcmpw', 'vpmovb2m',
  'vpmovd2m', 'vpmovm2b', 'vpmovm2d', 'vpmovm2q', 'vpmovm2w', 'vpmovq2m', 'vpmovw2m', 'vpshufbitqmb', 'vptestmb',
  'vptestmd', 'vptestmq', 'vptestmw', 'vptestnmb', 'vptestnmd', 'vptestnmq', 'vptestnmw', 'vpscatterdd', 'vpscatterdq',
  'vpscatterqd', 'vpscatterqq', 'vscatterdpd', 'vscatterdps', 'vscatterqpd', 'vscatterqps',
] as const;
