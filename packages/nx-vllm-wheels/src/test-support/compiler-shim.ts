/**
 * Stand-ins for a newer GCC than this machine can install (`g++-13`/`gcc-13` answering as GNU 13.2.0 and
 * compiling with the real g++/gcc): plain CommonJS in tools/fixtures so the demo and the benchmark use
 * the same scripts (decision 42).
 */
export { writeCompilerShim } from '../../../../tools/fixtures/compiler-shim.js';
export type { CompilerShim } from '../../../../tools/fixtures/compiler-shim.js';
