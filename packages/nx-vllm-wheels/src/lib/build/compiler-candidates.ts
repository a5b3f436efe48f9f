/**
 * The versioned GCCs the build looks for on PATH, newest first, when neither CXX nor c++ satisfies the
 * commit (Debian/Ubuntu install them under these names). Data only: the toolchain runtime input
 * (src/plugin/toolchain.ts) prints each one's version, so the hash follows whichever the build picks.
 */
export const VERSIONED_GCCS: readonly { cxx: string; cc: string }[] = [
  { cxx: 'g++-15', cc: 'gcc-15' },
  { cxx: 'g++-14', cc: 'gcc-14' },
  { cxx: 'g++-13', cc: 'gcc-13' },
];
