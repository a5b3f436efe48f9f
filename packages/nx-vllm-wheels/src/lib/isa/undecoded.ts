import { open } from 'node:fs/promises';
import type { IsaExtension } from './model';

/**
 * Instructions objdump cannot decode. binutils 2.40 prints AMX-FP8 (VEX map 5, binutils >= 2.44) as
 * `(bad)`, so the audit reads the bytes at each `(bad)` address itself and names what it recognises;
 * anything else there (data in .text, padding) stays unclassified, as before.
 */

/** AMX-FP8 by the VEX `pp` field: NP, 66, F3, F2. */
const AMX_FP8_BY_PP = ['tdpbf8ps', 'tdphf8ps', 'tdphbf8ps', 'tdpbhf8ps'] as const;

/**
 * `c4 e5 <W0 vvvv L0 pp> fd <mod 11 reg rm>`: VEX.128.MAP5.W0 FD /r, tile registers only. Returns the
 * extension and the instruction in AT&T syntax, or undefined.
 */
export function decodeUndecoded(bytes: Uint8Array): { extension: IsaExtension; instruction: string } | undefined {
  if (bytes.length < 5 || bytes[0] !== 0xc4 || bytes[1] !== 0xe5 || bytes[3] !== 0xfd) return undefined;
  const p = bytes[2];
  const modrm = bytes[4];
  if ((p & 0x84) !== 0 || modrm >> 6 !== 3) return undefined; // W0, L0, register operands
  const src2 = ~(p >> 3) & 0x7;
  if (((p >> 3) & 0x8) === 0) return undefined; // vvvv must name tmm0-7
  const dest = (modrm >> 3) & 0x7;
  const src1 = modrm & 0x7;
  const hex = [...bytes.subarray(0, 5)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  return { extension: 'amxfp8', instruction: `${AMX_FP8_BY_PP[p & 3]} %tmm${src2},%tmm${src1},%tmm${dest} (${hex}, printed by objdump as (bad))` };
}

/**
 * Reads `length` bytes at each virtual address of an ELF64 little-endian file, through its PT_LOAD
 * program headers; addresses outside every loaded segment give an empty array.
 */
export async function readAtAddresses(file: string, addresses: readonly number[], length: number): Promise<Uint8Array[]> {
  const handle = await open(file, 'r');
  try {
    const header = Buffer.alloc(64);
    await handle.read(header, 0, 64, 0);
    if (header[4] !== 2 || header[5] !== 1) return addresses.map(() => new Uint8Array());
    const phoff = Number(header.readBigUInt64LE(0x20));
    const phentsize = header.readUInt16LE(0x36);
    const phnum = header.readUInt16LE(0x38);
    const table = Buffer.alloc(phentsize * phnum);
    await handle.read(table, 0, table.length, phoff);
    const loads: { offset: number; vaddr: number; size: number }[] = [];
    for (let i = 0; i < phnum; i++) {
      const at = i * phentsize;
      if (table.readUInt32LE(at) !== 1) continue; // PT_LOAD
      loads.push({ offset: Number(table.readBigUInt64LE(at + 0x08)), vaddr: Number(table.readBigUInt64LE(at + 0x10)), size: Number(table.readBigUInt64LE(at + 0x20)) });
    }
    const out: Uint8Array[] = [];
    for (const address of addresses) {
      const load = loads.find((l) => address >= l.vaddr && address < l.vaddr + l.size);
      if (!load) {
        out.push(new Uint8Array());
        continue;
      }
      const n = Math.min(length, load.vaddr + load.size - address);
      const bytes = Buffer.alloc(n);
      await handle.read(bytes, 0, n, load.offset + address - load.vaddr);
      out.push(bytes);
    }
    return out;
  } finally {
    await handle.close();
  }
}
