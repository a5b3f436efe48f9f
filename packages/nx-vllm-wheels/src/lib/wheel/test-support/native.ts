import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTorchIndex } from '../../../../../../tools/fixtures/index.js';
import { run } from '../../process';
import { python, recordFor, writeZipWithPython, type Member } from './python';

const ENV = { PATH: process.env.PATH, LANG: 'C.UTF-8' };

async function sh(command: string, args: string[], cwd: string): Promise<void> {
  await run(command, args, { cwd, env: ENV, timeoutMs: 120_000 });
}

/** The fixture torch's libraries (libtorch_cpu.so needing libc10.so), unpacked from its wheel into `dir/torch/lib`. */
export async function fixtureTorchLibs(dir: string): Promise<string> {
  const { wheelPath } = createTorchIndex(join(dir, 'index'));
  const site = join(dir, 'site');
  await python('import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])', { cwd: dir, args: [wheelPath, site] });
  return join(site, 'torch', 'lib');
}

/** A local library `libfoo.so.1` (soname) in `dir`: one that no manylinux policy allows. */
export async function buildLibFoo(dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'foo.c'), 'int foo_answer(void) { return 42; }\n');
  await sh('gcc', ['-O2', '-fPIC', '-shared', '-Wl,-soname,libfoo.so.1', '-o', 'libfoo.so.1', 'foo.c'], dir);
  await sh('ln', ['-sf', 'libfoo.so.1', 'libfoo.so'], dir);
  return dir;
}

export interface NativeWheelOptions {
  /** Directories of libraries to link: `-L dir -l name`, with an RPATH to the dir (as CMake's build tree leaves it). */
  link?: { dir: string; name: string }[];
  /** Call pthread_create, which glibc 2.34 moved into libc (a GLIBC_2.34 symbol version). */
  glibc234?: boolean;
}

const EXT_CPP = (opts: NativeWheelOptions, links: string[]) => `
#include <string>
${opts.glibc234 ? '#include <pthread.h>\nstatic void *worker(void *) { return nullptr; }' : ''}
${links.includes('torch_cpu') ? 'extern "C" const char *torch_cpu_version(void);' : ''}
${links.includes('foo') ? 'extern "C" int foo_answer(void);' : ''}
extern "C" __attribute__((visibility("default"))) void *PyInit__ext(void) {
  static std::string v = std::string("tinyext");
  ${links.includes('torch_cpu') ? 'v += torch_cpu_version();' : ''}
  ${links.includes('foo') ? 'v += std::to_string(foo_answer());' : ''}
  ${opts.glibc234 ? 'pthread_t t; pthread_create(&t, nullptr, worker, nullptr); pthread_join(t, nullptr);' : ''}
  return (void *)v.c_str();
}
`;

/**
 * A tiny platform wheel `tinyext-1.0-cp38-abi3-linux_x86_64.whl` (as `bdist_wheel --py-limited-api=cp38`
 * names one) whose extension `tinyext/_ext.abi3.so` is compiled here with g++ (so it needs libstdc++ and
 * glibc) and links the given libraries. Returns the wheel's path.
 */
export async function buildNativeWheel(dir: string, opts: NativeWheelOptions = {}): Promise<string> {
  const build = join(dir, 'build');
  mkdirSync(build, { recursive: true });
  const links = (opts.link ?? []).map((l) => l.name);
  writeFileSync(join(build, 'ext.cpp'), EXT_CPP(opts, links));
  const linkArgs = (opts.link ?? []).flatMap((l) => [`-L${l.dir}`, `-l${l.name}`, `-Wl,-rpath,${l.dir}`]);
  await sh('g++', ['-O2', '-fPIC', '-shared', '-o', '_ext.abi3.so', 'ext.cpp', ...linkArgs], build);

  const di = 'tinyext-1.0.dist-info';
  const members: Member[] = [
    { name: 'tinyext/__init__.py', data: 'from . import _ext\n' },
    { name: 'tinyext/_ext.abi3.so', data: readFileSync(join(build, '_ext.abi3.so')), mode: 0o755 },
    { name: `${di}/METADATA`, data: 'Metadata-Version: 2.1\nName: tinyext\nVersion: 1.0\nSummary: a tiny native wheel for tests\n' },
    { name: `${di}/WHEEL`, data: 'Wheel-Version: 1.0\nGenerator: bdist_wheel (0.43.0)\nRoot-Is-Purelib: false\nTag: cp38-abi3-linux_x86_64\n\n' },
  ];
  const path = join(dir, 'tinyext-1.0-cp38-abi3-linux_x86_64.whl');
  await writeZipWithPython(path, [...members, { name: `${di}/RECORD`, data: recordFor(members, `${di}/RECORD`) }]);
  return path;
}
