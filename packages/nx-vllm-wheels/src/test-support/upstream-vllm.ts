/**
 * Verbatim excerpts of real vLLM files (line numbers of the sdist file above each part), shared by the
 * specs that read a commit's build files. Small on purpose: only what the plugin's reading depends on.
 */

/** vLLM v0.16.0 (PyPI sdist vllm-0.16.0.tar.gz), cmake/cpu_extension.cmake: its variables, its read of /proc/cpuinfo, the searches for x86 and Arm flags, and the GNU >= 12.3 tests that drop VNNI/BF16/AMX. */
export const V0_16_0_CPU_EXTENSION = [
  // lines 16-20
  `set(ENABLE_AVX2 $ENV{VLLM_CPU_AVX2})
set(ENABLE_AVX512 $ENV{VLLM_CPU_AVX512})
set(ENABLE_AVX512BF16 $ENV{VLLM_CPU_AVX512BF16})
set(ENABLE_AVX512VNNI $ENV{VLLM_CPU_AVX512VNNI})
set(ENABLE_AMXBF16 $ENV{VLLM_CPU_AMXBF16})`,
  // lines 46-53
  `if (NOT MACOSX_FOUND)
    execute_process(COMMAND cat /proc/cpuinfo
                    RESULT_VARIABLE CPUINFO_RET
                    OUTPUT_VARIABLE CPUINFO)
    if (NOT CPUINFO_RET EQUAL 0)
        message(FATAL_ERROR "Failed to check CPU features via /proc/cpuinfo")
    endif()
endif()`,
  // lines 80-88
  `
function (is_avx512_disabled OUT)
    set(DISABLE_AVX512 $ENV{VLLM_CPU_DISABLE_AVX512})
    if(DISABLE_AVX512 AND DISABLE_AVX512 STREQUAL "true")
        set(\${OUT} ON PARENT_SCOPE)
    else()
        set(\${OUT} OFF PARENT_SCOPE)
    endif()
endfunction()`,
  // lines 97-108
  `    check_sysctl(hw.optional.arm.FEAT_BF16 ARM_BF16_FOUND)
else()
    find_isa(\${CPUINFO} "avx2" AVX2_FOUND)
    find_isa(\${CPUINFO} "avx512f" AVX512_FOUND)
    find_isa(\${CPUINFO} "Power11" POWER11_FOUND)
    find_isa(\${CPUINFO} "POWER10" POWER10_FOUND)
    find_isa(\${CPUINFO} "POWER9" POWER9_FOUND)
    find_isa(\${CPUINFO} "asimd" ASIMD_FOUND) # Check for ARM NEON support
    find_isa(\${CPUINFO} "bf16" ARM_BF16_FOUND) # Check for ARM BF16 support
    find_isa(\${CPUINFO} "S390" S390_FOUND)
    find_isa(\${CPUINFO} "v" RVV_FOUND) # Check for RISC-V RVV support
`,
  // lines 120-171: inside AVX-512, VNNI/BF16/AMX each need GNU >= 12.3, else a warning and off
  `if (AVX512_FOUND AND NOT AVX512_DISABLED)
    list(APPEND CXX_COMPILE_FLAGS
        "-mavx512f"
        "-mavx512vl"
        "-mavx512bw"
        "-mavx512dq")

    find_isa(\${CPUINFO} "avx512_bf16" AVX512BF16_FOUND)
    if (AVX512BF16_FOUND OR ENABLE_AVX512BF16)
        if (CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND
            CMAKE_CXX_COMPILER_VERSION VERSION_GREATER_EQUAL 12.3)
            list(APPEND CXX_COMPILE_FLAGS "-mavx512bf16")
            set(ENABLE_AVX512BF16 ON)
        else()
            set(ENABLE_AVX512BF16 OFF)
            message(WARNING "Disable AVX512-BF16 ISA support, requires gcc/g++ >= 12.3")
        endif()
    else()
        set(ENABLE_AVX512BF16 OFF)
        message(WARNING "Disable AVX512-BF16 ISA support, no avx512_bf16 found in local CPU flags." " If cross-compilation is required, please set env VLLM_CPU_AVX512BF16=1.")
    endif()

    find_isa(\${CPUINFO} "avx512_vnni" AVX512VNNI_FOUND)
    if (AVX512VNNI_FOUND OR ENABLE_AVX512VNNI)
        if (CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND
            CMAKE_CXX_COMPILER_VERSION VERSION_GREATER_EQUAL 12.3)
            list(APPEND CXX_COMPILE_FLAGS "-mavx512vnni")
            set(ENABLE_AVX512VNNI ON)
        else()
            set(ENABLE_AVX512VNNI OFF)
            message(WARNING "Disable AVX512-VNNI ISA support, requires gcc/g++ >= 12.3")
        endif()
    else()
        set(ENABLE_AVX512VNNI OFF)
        message(WARNING "Disable AVX512-VNNI ISA support, no avx512_vnni found in local CPU flags." " If cross-compilation is required, please set env VLLM_CPU_AVX512VNNI=1.")
    endif()

    find_isa(\${CPUINFO} "amx_bf16" AMXBF16_FOUND)
    if (AMXBF16_FOUND OR ENABLE_AMXBF16)
        if (CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND
            CMAKE_CXX_COMPILER_VERSION VERSION_GREATER_EQUAL 12.3)
            list(APPEND CXX_COMPILE_FLAGS "-mamx-bf16" "-mamx-tile")
            set(ENABLE_AMXBF16 ON)
            add_compile_definitions(-DCPU_CAPABILITY_AMXBF16)
        else()
            set(ENABLE_AMXBF16 OFF)
            message(WARNING "Disable AMX_BF16 ISA support, requires gcc/g++ >= 12.3")
        endif()
    else()
        set(ENABLE_AMXBF16 OFF)
        message(WARNING "Disable AMX_BF16 ISA support, no amx_bf16 found in local CPU flags." " If cross-compilation is required, please set env VLLM_CPU_AMXBF16=1.")
    endif()`,
  // lines 249-250
  `        if(DEFINED ENV{ACL_ROOT_DIR} AND IS_DIRECTORY "$ENV{ACL_ROOT_DIR}")
            message(STATUS "Using ACL from specified source directory: $ENV{ACL_ROOT_DIR}")`,
  // line 301
  `    set(FETCHCONTENT_SOURCE_DIR_ONEDNN "$ENV{FETCHCONTENT_SOURCE_DIR_ONEDNN}" CACHE PATH "Path to a local oneDNN source directory.")`,
].join('\n');

/** vLLM v0.34.0 (PyPI sdist vllm-0.34.0.tar.gz), cmake/cpu_extension.cmake: its variables, the cpuinfo read kept for Arm/POWER/RISC-V only, the x86 GCC gate and two of its three x86 libraries. */
export const V0_34_0_CPU_EXTENSION = [
  // lines 17-20
  `set(ENABLE_X86_ISA $ENV{VLLM_CPU_X86})
set(ENABLE_ARM_BF16 $ENV{VLLM_CPU_ARM_BF16})
set(ENABLE_ARM_I8MM $ENV{VLLM_CPU_ARM_I8MM})
set(ENABLE_RVV_BF16 $ENV{VLLM_CPU_RVV_BF16})`,
  // lines 61-68
  `if (NOT MACOSX_FOUND)
    execute_process(COMMAND cat /proc/cpuinfo
                    RESULT_VARIABLE CPUINFO_RET
                    OUTPUT_VARIABLE CPUINFO)
    if (NOT CPUINFO_RET EQUAL 0)
        message(FATAL_ERROR "Failed to check CPU features via /proc/cpuinfo")
    endif()
endif()`,
  // lines 101-112
  `    check_sysctl(hw.optional.arm.FEAT_I8MM ARM_I8MM_FOUND)
else()
    find_isa(\${CPUINFO} "Power11" POWER11_FOUND)
    find_isa(\${CPUINFO} "POWER10" POWER10_FOUND)
    find_isa(\${CPUINFO} "POWER9" POWER9_FOUND)
    find_isa(\${CPUINFO} "asimd" ASIMD_FOUND) # Check for ARM NEON support
    find_isa(\${CPUINFO} "bf16" ARM_BF16_FOUND) # Check for ARM BF16 support
    find_isa(\${CPUINFO} "i8mm" ARM_I8MM_FOUND) # Check for ARM I8MM support
    find_isa(\${CPUINFO} "S390" S390_FOUND)
    find_isa(\${CPUINFO} "zvfhmin" RVV_FP16_FOUND) # Check for RISC-V Vector FP16 support
    find_isa(\${CPUINFO} "zvfbfmin" RVV_BF16_FOUND) # Check for RISC-V Vector BF16 support
`,
  // lines 132-143: the x86 gate (fatal below GNU 12.3), and a GCC 15 workaround that is no requirement
  `if (CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|amd64" OR ENABLE_X86_ISA)
    set(ENABLE_X86_ISA ON)
    if (NOT (CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND
            CMAKE_CXX_COMPILER_VERSION VERSION_GREATER_EQUAL 12.3))
        message(FATAL_ERROR "X86 backend requires gcc/g++ >= 12.3")
    endif()
    # Work around a GCC 15 optimizer crash in oneDNN (tree-ssa-pre pass).
    # Keep this scoped to GCC 15+ so older toolchains are unaffected.
    if (CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND
        CMAKE_CXX_COMPILER_VERSION VERSION_GREATER_EQUAL 15)
        list(APPEND CXX_COMPILE_FLAGS "-fno-tree-pre")
    endif()`,
  // lines 310-311
  `        if(DEFINED ENV{ACL_ROOT_DIR} AND IS_DIRECTORY "$ENV{ACL_ROOT_DIR}")
            message(STATUS "Using ACL from specified source directory: $ENV{ACL_ROOT_DIR}")`,
  // line 362
  `    set(FETCHCONTENT_SOURCE_DIR_ONEDNN "$ENV{FETCHCONTENT_SOURCE_DIR_ONEDNN}" CACHE PATH "Path to a local oneDNN source directory.")`,
  // lines 635-645, 660-684
  `    # AMX + AVX512F + AVX512BF16 + AVX512VNNI
    define_extension_target(
        _C
        DESTINATION vllm
        LANGUAGE CXX
        SOURCES \${VLLM_EXT_SRC_AVX512} \${VLLM_EXT_SRC_SGL}
        LIBRARIES \${_C_LIBS}
        COMPILE_FLAGS \${CXX_COMPILE_FLAGS_AVX512_AMX}
        USE_SABI 3
        WITH_SOABI
    )

    # AVX512F 
    define_extension_target(
        _C_AVX512
        DESTINATION vllm
        LANGUAGE CXX
        SOURCES \${VLLM_EXT_SRC_AVX512}
        LIBRARIES \${_C_AVX512_LIBS}
        COMPILE_FLAGS \${CXX_COMPILE_FLAGS_AVX512}
        USE_SABI 3
        WITH_SOABI
    )

    # AVX2 
    define_extension_target(
        _C_AVX2
        DESTINATION vllm
        LANGUAGE CXX
        SOURCES \${VLLM_EXT_SRC_AVX2}
        LIBRARIES \${_C_AVX2_LIBS}
        COMPILE_FLAGS \${CXX_COMPILE_FLAGS_AVX2}
        USE_SABI 3
        WITH_SOABI
    )
else()
    message(STATUS "CPU extension source files: \${VLLM_EXT_SRC}")`,
].join('\n');

/** vLLM v0.16.0 (same sdist), setup.py: its environment reads, directly and through vllm/envs.py. */
export const V0_16_0_SETUP_PY = [
  // lines 40-42
  `envs = load_module_from_path("envs", os.path.join(ROOT_DIR, "vllm", "envs.py"))

VLLM_TARGET_DEVICE = envs.VLLM_TARGET_DEVICE`,
  // line 55
  `elif sys.platform.startswith("linux") and os.getenv("VLLM_TARGET_DEVICE") is None:`,
  // line 225
  `        cfg = envs.CMAKE_BUILD_TYPE or default_cfg`,
  // line 264
  `        fc_base_dir = os.environ.get("FETCHCONTENT_BASE_DIR", fc_base_dir)`,
  // line 290
  `        other_cmake_args = os.environ.get("CMAKE_ARGS")`,
  // lines 876-878
  `    if env_version := os.getenv("VLLM_VERSION_OVERRIDE"):
        print(f"Overriding VLLM version with {env_version} from VLLM_VERSION_OVERRIDE")
        os.environ["SETUPTOOLS_SCM_PRETEND_VERSION"] = env_version`,
].join('\n');

/** vLLM v0.34.0 (same sdist), setup.py: its environment reads. */
export const V0_34_0_SETUP_PY = [
  // line 110
  `elif sys.platform.startswith("linux") and os.getenv("VLLM_TARGET_DEVICE") is None:`,
  // line 307
  `        fc_base_dir = os.environ.get("FETCHCONTENT_BASE_DIR", fc_base_dir)`,
  // line 333
  `        other_cmake_args = os.environ.get("CMAKE_ARGS")`,
  // line 611
  `        if envs.is_set("VLLM_MAIN_CUDA_VERSION"):`,
  // line 1221
  `            github_token = os.getenv("GH_TOKEN", os.getenv("GITHUB_TOKEN"))`,
  // lines 1352-1354
  `    if env_version := os.getenv("VLLM_VERSION_OVERRIDE"):
        print(f"Overriding VLLM version with {env_version} from VLLM_VERSION_OVERRIDE")
        os.environ["SETUPTOOLS_SCM_PRETEND_VERSION"] = env_version`,
].join('\n');

/**
 * Verbatim excerpts of vLLM v0.17.0's cmake/cpu_extension.cmake (sdist on PyPI), the first unified
 * release: `_C` (AVX-512 + VNNI + BF16 + AMX flags, imported on any AVX-512 CPU) and `_C_AVX2`, no
 * `_C_AVX512` yet; cpuinfo is searched for Arm/POWER/RISC-V flags only.
 */
export const V0_17_0_CPU_EXTENSION = [
  // lines 16-17
  `set(ENABLE_X86_ISA $ENV{VLLM_CPU_X86})
set(ENABLE_ARM_BF16 $ENV{VLLM_CPU_ARM_BF16})`,
  // lines 36, 79-80
  `    execute_process(COMMAND cat /proc/cpuinfo
    find_isa(\${CPUINFO} "asimd" ASIMD_FOUND) # Check for ARM NEON support
    find_isa(\${CPUINFO} "bf16" ARM_BF16_FOUND) # Check for ARM BF16 support`,
  // lines 384-408
  `    define_extension_target(
        _C
        DESTINATION vllm
        LANGUAGE CXX
        SOURCES \${VLLM_EXT_SRC_AVX512}
        LIBRARIES \${LIBS}
        COMPILE_FLAGS \${CXX_COMPILE_FLAGS_AVX512}
        USE_SABI 3
        WITH_SOABI
    )

    # For SGL kernels
    target_compile_definitions(_C PRIVATE "-DCPU_CAPABILITY_AVX512")
    # For AMX kernels
    target_compile_definitions(_C PRIVATE "-DCPU_CAPABILITY_AMXBF16")

    define_extension_target(
        _C_AVX2
        DESTINATION vllm
        LANGUAGE CXX
        SOURCES \${VLLM_EXT_SRC_AVX2}
        LIBRARIES \${LIBS}
        COMPILE_FLAGS \${CXX_COMPILE_FLAGS_AVX2}
        USE_SABI 3
        WITH_SOABI
    )`,
].join('\n');
