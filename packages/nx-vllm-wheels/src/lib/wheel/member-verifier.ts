import { Worker } from 'node:worker_threads';
import type { RecordHashAlgorithm } from './record';
import { METHOD_DEFLATED } from './zip-format';
import type { ZipEntry } from './zip-read';

/**
 * What inflating one member gave: its size, CRC-32 and RECORD digest (urlsafe base64, no padding);
 * or that it inflated past its declared size (stopped there); or why it could not be read.
 */
export type InflatedMember = { kind: 'read'; size: number; crc: number; digest: string } | { kind: 'overflow' } | { kind: 'error'; message: string };

/**
 * Inflates large members on a worker thread and returns their size, CRC-32 and hash, so that the
 * shared libraries of a wheel (nearly all its bytes) are verified on a second core while the main
 * thread verifies the thousands of small members, and the kernel copies the archive meanwhile.
 * zlib inflates in libuv's pool while the worker hashes. Never inflates past the declared size.
 * Self-contained source (no imports of ours), so it runs the same from compiled code and under the
 * test runner, like index/file-hasher.ts.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { open } = require('node:fs/promises');
const { pipeline } = require('node:stream/promises');
const { createInflateRaw, crc32 } = require('node:zlib');
const READ_SIZE = 2 * 1024 * 1024;
const OVERFLOW = new Error('overflow');

async function inflated(m) {
  const hash = createHash(m.algorithm);
  let size = 0;
  let crc = 0;
  const take = (chunk) => {
    size += chunk.length;
    if (size > m.uncompressedSize) throw OVERFLOW;
    crc = crc32(chunk, crc);
    hash.update(chunk);
  };
  const file = await open(m.path, 'r');
  async function* compressed() {
    const end = m.offset + m.compressedSize;
    for (let pos = m.offset; pos < end; ) {
      const buffer = Buffer.allocUnsafe(Math.min(READ_SIZE, end - pos));
      const { bytesRead } = await file.read(buffer, 0, buffer.length, pos);
      if (bytesRead === 0) throw new Error('the archive ended early (was it changed while being read?)');
      pos += bytesRead;
      yield buffer.subarray(0, bytesRead);
    }
  }
  try {
    if (m.deflated) {
      await pipeline(compressed(), createInflateRaw({ chunkSize: 1024 * 1024 }), async (chunks) => {
        for await (const chunk of chunks) take(chunk);
      });
    } else {
      for await (const chunk of compressed()) take(chunk);
    }
    return { kind: 'read', size, crc, digest: hash.digest('base64url') };
  } catch (e) {
    return e === OVERFLOW ? { kind: 'overflow' } : { kind: 'error', message: String(e && e.message) };
  } finally {
    await file.close();
  }
}

parentPort.on('message', (m) => {
  inflated(m).then(
    (result) => parentPort.postMessage({ id: m.id, result }),
    (e) => parentPort.postMessage({ id: m.id, result: { kind: 'error', message: String(e && e.message) } }),
  );
});
`;

export class MemberVerifier {
  private readonly worker = new Worker(WORKER_SOURCE, { eval: true });
  private readonly pending = new Map<number, { resolve: (r: InflatedMember) => void; reject: (e: Error) => void }>();
  private next = 0;

  constructor(private readonly archive: string) {
    this.worker.on('message', ({ id, result }: { id: number; result: InflatedMember }) => {
      const p = this.pending.get(id);
      this.pending.delete(id);
      p?.resolve(result);
    });
    this.worker.on('error', (e) => this.failAll(e));
    this.worker.on('exit', () => this.failAll(new Error('the member verifying worker exited')));
  }

  /** Inflates the member (one at a time, in call order) and hashes it with `algorithm`. */
  inflate(entry: ZipEntry, algorithm: RecordHashAlgorithm): Promise<InflatedMember> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({
        id,
        path: this.archive,
        offset: entry.dataOffset,
        compressedSize: entry.compressedSize,
        uncompressedSize: entry.uncompressedSize,
        deflated: entry.method === METHOD_DEFLATED,
        algorithm,
      });
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}
