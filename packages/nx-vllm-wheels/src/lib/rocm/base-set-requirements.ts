import { getHeaders } from '../wheel/metadata';
import { normalizeName } from '../wheel/names';
import { parseRequirement } from '../wheel/requires-dist';
import { openWheel } from '../wheel/validate';

/** One base wheel a ROCm build was compiled against, at its stripped version (build-info.json `baseWheels`). */
export interface BaseWheelPin {
  distribution: string;
  version: string;
}

/**
 * The ROCm wheel's Requires-Dist: the raw wheel's own lines, with every base distribution pinned to the
 * build it was compiled against (`torch==2.9.0`, `triton==3.5.0`, …). vLLM's extensions link that torch's
 * C++ ABI, and upstream's requirements/rocm.txt names no torch (ROCm images bring one), so without the pins
 * `pip install vllm --index-url <the ROCm index>` would install a vLLM that cannot load, or fetch another
 * torch. A line of the raw wheel naming a base distribution without a marker is replaced by the pin (it
 * could only allow other builds); one with a marker (an extra, a platform) is kept as it is.
 */
export async function requiresDistWithBaseSet(rawWheel: string, base: readonly BaseWheelPin[]): Promise<string[]> {
  const wheel = await openWheel(rawWheel, { deferHashes: true });
  await wheel.zip.close();
  const names = new Set(base.map((b) => normalizeName(b.distribution)));
  const kept = getHeaders(wheel.metadata, 'Requires-Dist').filter((line) => {
    const parsed = parseRequirement(line);
    return !(parsed && names.has(normalizeName(parsed.name)) && !line.includes(';'));
  });
  return [...base.map((b) => `${b.distribution}==${b.version}`), ...kept];
}
