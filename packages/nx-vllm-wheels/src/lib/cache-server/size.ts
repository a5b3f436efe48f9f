import { CacheServerError } from './errors';

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/** `"2GiB"`, `"500MB"`, `"1048576"` (bytes) -> a byte count; throws with the allowed forms otherwise. */
export function parseByteSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? (m[2] || 'b').toLowerCase() : '';
  if (!m || !(unit in UNITS)) {
    throw new CacheServerError(`Invalid size ${JSON.stringify(text)}: write a number of bytes or a number with a unit (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB), e.g. 2GiB.`);
  }
  const bytes = Math.floor(Number(m[1]) * UNITS[unit]);
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new CacheServerError(`Invalid size ${JSON.stringify(text)}: it must be more than 0 bytes.`);
  return bytes;
}

/** 2147483648 -> "2 GiB", 1500 -> "1500 B": for log lines. */
export function formatByteSize(bytes: number): string {
  for (const [unit, size] of [['TiB', 2 ** 40], ['GiB', 2 ** 30], ['MiB', 2 ** 20], ['KiB', 2 ** 10]] as const) {
    if (bytes >= size) return `${Number((bytes / size).toFixed(2))} ${unit}`;
  }
  return `${bytes} B`;
}

/** `"60"` (seconds), `"90s"`, `"5m"`, `"1500ms"`, `"1h"` -> milliseconds. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/i.exec(text);
  if (!m) throw new CacheServerError(`Invalid duration ${JSON.stringify(text)}: write seconds (60) or a number with ms, s, m or h (90s, 5m).`);
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's').toLowerCase() as 'ms' | 's' | 'm' | 'h'];
  const ms = Math.round(Number(m[1]) * factor);
  if (ms <= 0) throw new CacheServerError(`Invalid duration ${JSON.stringify(text)}: it must be more than 0.`);
  return ms;
}
