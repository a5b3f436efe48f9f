import { Worker } from 'node:worker_threads';

/**
 * Hashes whole files (sha256, 8 MiB reads) on a worker thread, so a file's hash runs on a second core
 * while the main thread verifies the wheel's members against RECORD. Self-contained source (no
 * imports of ours), so it runs the same from compiled code and under the test runner.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { openSync, readSync, closeSync } = require('node:fs');
const buf = Buffer.allocUnsafe(8 * 1024 * 1024);
parentPort.on('message', ({ id, path }) => {
  try {
    const hash = createHash('sha256');
    const fd = openSync(path, 'r');
    let size = 0;
    try {
      for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0; size += n) hash.update(buf.subarray(0, n));
    } finally {
      closeSync(fd);
    }
    parentPort.postMessage({ id, sha256: hash.digest('hex'), size });
  } catch (e) {
    parentPort.postMessage({ id, error: String(e && e.message), code: e && e.code });
  }
});
`;

interface Reply {
  id: number;
  sha256?: string;
  size?: number;
  error?: string;
  code?: string;
}

export class FileHasher {
  private readonly worker = new Worker(WORKER_SOURCE, { eval: true });
  private readonly pending = new Map<number, { resolve: (r: { sha256: string; size: number }) => void; reject: (e: Error) => void }>();
  private next = 0;

  constructor() {
    this.worker.on('message', (r: Reply) => {
      const p = this.pending.get(r.id);
      this.pending.delete(r.id);
      if (!p) return;
      if (r.error !== undefined) p.reject(Object.assign(new Error(r.error), { code: r.code }));
      else p.resolve({ sha256: r.sha256!, size: r.size! });
    });
    this.worker.on('error', (e) => this.failAll(e));
    this.worker.on('exit', () => this.failAll(new Error('the hashing worker exited')));
  }

  /** Hex sha256 and size of the file at `path`; files are hashed one after the other, in call order. */
  hash(path: string): Promise<{ sha256: string; size: number }> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, path });
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
