import { types } from 'node:util';
import { constants, createInflateRaw, inflateRawSync, type InflateRaw } from 'node:zlib';

/**
 * The native zlib stream under a node:zlib InflateRaw, as node's own inflateRawSync drives it
 * (lib/zlib.js, unchanged from Node 12 to 24): `writeSync(flush, in, inOffset, inLength, out,
 * outOffset, outLength)` leaves [availOut, availIn] in `_writeState`; `reset()` is inflateReset.
 */
interface ZlibHandle {
  writeSync(flush: number, input: Buffer, inOffset: number, inLength: number, output: Buffer, outOffset: number, outLength: number): void;
  reset(): void;
}

interface Engine {
  readonly stream: InflateRaw;
  readonly handle: ZlibHandle;
  readonly state: Uint32Array;
}

/**
 * Inflates small raw-deflate members with one zlib stream, reset between them: inflateRawSync makes a
 * zlib stream per call (a native object and a Transform), which is most of what verifying a small
 * file costs, and its garbage most of the GC's work, for wheels of thousands of Python files.
 *
 * Gives exactly what `inflateRawSync(raw, { maxOutputLength: bound })` gives, and throws what it
 * throws: only a member that inflates completely into fewer than `bound` bytes is taken from the
 * reused stream; anything else (more output, an error: the stream is then dropped) is inflated again
 * by inflateRawSync, whose result or error is the answer. Where the stream's handle is not what this
 * expects (another Node), every member goes through inflateRawSync.
 */
export class SmallInflater {
  private engine: Engine | undefined;
  private unavailable = false;

  inflate(raw: Buffer, bound: number): Buffer {
    const engine = this.current();
    if (engine) {
      const out = Buffer.allocUnsafe(bound);
      engine.handle.reset();
      engine.handle.writeSync(constants.Z_FINISH, raw, 0, raw.length, out, 0, bound);
      // zlib reports an error by destroying the stream (synchronously; its handle is closed).
      if (engine.stream.destroyed) this.engine = undefined;
      // Room left in `out` after Z_FINISH without an error: the stream ended, all of it inflated.
      else if (engine.state[0] > 0) return out.subarray(0, bound - engine.state[0]);
    }
    return inflateRawSync(raw, { maxOutputLength: bound, chunkSize: Math.max(bound, constants.Z_MIN_CHUNK) });
  }

  /** Whether members are inflated by the reused stream (false on a Node whose zlib internals differ). */
  get reusesStream(): boolean {
    return this.current() !== undefined;
  }

  close(): void {
    this.engine?.stream.close();
    this.engine = undefined;
  }

  private current(): Engine | undefined {
    if (this.engine || this.unavailable) return this.engine;
    const stream = createInflateRaw();
    const inner = stream as unknown as { _handle?: Partial<ZlibHandle>; _writeState?: unknown };
    const handle = inner._handle;
    if (!handle || typeof handle.writeSync !== 'function' || typeof handle.reset !== 'function' || !types.isUint32Array(inner._writeState)) {
      this.unavailable = true;
      stream.close();
      return undefined;
    }
    stream.on('error', () => undefined); // seen as `destroyed`; inflateRawSync then gives the error
    return (this.engine = { stream, handle: handle as ZlibHandle, state: inner._writeState as Uint32Array });
  }
}
