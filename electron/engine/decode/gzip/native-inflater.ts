// Node's native raw inflater, driven through the internal handle of a zlib stream object so that it can
// be called synchronously with Z_BLOCK (the public API treats such a stop as the end of the stream).
// These internals (`_handle.writeSync`, `_writeState`, `handle.onerror`) are undocumented: the factory
// below checks them with a real two-block stream before anything relies on them.
import * as zlib from 'node:zlib';
import { Z_BLOCK, Z_NO_FLUSH, type InflateFlush, type InflateStop, type InflaterFactory, type RawInflater } from './raw-inflater';

interface ZlibHandle {
  writeSync(flush: number, input: Uint8Array, inOff: number, inLen: number, out: Uint8Array, outOff: number, outLen: number): void;
  close(): void;
  reset(): void;
  onerror: (message: string, errno: number, code?: string) => void;
}

interface ZlibInternals {
  _handle?: ZlibHandle | null;
  _writeState?: Uint32Array;
}

class NativeInflater implements RawInflater {
  readonly exactBitPosition = false;
  consumed = 0;
  produced = 0;
  unusedBits = 0;
  afterFinalBlock = false;
  private readonly handle: ZlibHandle;
  private readonly writeState: Uint32Array;
  private error: string | undefined;

  constructor(handle: ZlibHandle, writeState: Uint32Array) {
    this.handle = handle;
    this.writeState = writeState;
    // Replaces the stream's handler, which would destroy the (unused) stream object asynchronously.
    handle.onerror = (message, errno, code) => {
      this.error = `${message} (${code ?? errno})`;
    };
  }

  write(flush: InflateFlush, input: Uint8Array, inOffset: number, inLength: number, output: Uint8Array, outOffset: number, outLength: number): InflateStop {
    this.call(flush, input, inOffset, inLength, output, outOffset, outLength);
    const availIn = inLength - this.consumed;
    const availOut = outLength - this.produced;
    if (availIn === 0) return 'input';
    if (availOut === 0) return 'output';
    if (flush === Z_NO_FLUSH) return 'end'; // Z_NO_FLUSH never stops early unless the stream is done.
    if (this.consumed > 0 || this.produced > 0) return 'boundary';
    // No progress under Z_BLOCK: past the last block. Confirm with Z_NO_FLUSH, which only stops early at
    // the end of the stream (if it was in fact mid-stream, it just carries on and nothing is lost).
    this.call(Z_NO_FLUSH, input, inOffset, inLength, output, outOffset, outLength);
    if (inLength - this.consumed === 0) return 'input';
    if (outLength - this.produced === 0) return 'output';
    return 'end';
  }

  private call(flush: number, input: Uint8Array, inOffset: number, inLength: number, output: Uint8Array, outOffset: number, outLength: number): void {
    this.handle.writeSync(flush, input, inOffset, inLength, output, outOffset, outLength);
    if (this.error !== undefined) {
      const message = this.error;
      this.error = undefined;
      throw new Error(message);
    }
    this.produced = outLength - this.writeState[0]!;
    this.consumed = inLength - this.writeState[1]!;
  }

  reset(): void {
    // Node's reset re-applies the dictionary given at creation for raw inflate.
    this.handle.reset();
    this.error = undefined;
  }

  close(): void {
    try {
      this.handle.close();
    } catch {
      // Already closed after an error: nothing to free.
    }
  }
}

function createNative(dictionary?: Uint8Array): RawInflater {
  const stream = zlib.createInflateRaw(dictionary && dictionary.length > 0 ? { dictionary } : {}) as unknown as ZlibInternals;
  const handle = stream._handle;
  const writeState = stream._writeState;
  if (!handle || typeof handle.writeSync !== 'function' || !(writeState instanceof Uint32Array)) {
    throw new Error('zlib internals are not available');
  }
  // The stream object is never used again: drop its reference so only our wrapper owns the handle.
  (stream as ZlibInternals)._handle = null;
  return new NativeInflater(handle, writeState);
}

let verdict: { ok: boolean; reason?: string } | undefined;

/**
 * Whether the native handle can be stepped block by block on this runtime: decodes a known stream of
 * several blocks with Z_BLOCK and checks the stops, the output and the end detection.
 */
export function probeNativeInflater(): { ok: boolean; reason?: string } {
  if (verdict) return verdict;
  try {
    const plain = Buffer.alloc(200_000);
    let seed = 7;
    for (let i = 0; i < plain.length; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      plain[i] = 97 + ((seed >>> 16) % 7);
    }
    // memLevel 1 makes many small blocks; the bytes after the stream stand for a gzip trailer.
    const deflated = zlib.deflateRawSync(plain, { level: 6, memLevel: 1 });
    const compressed = Buffer.concat([deflated, Buffer.from([1, 2, 3, 4, 5, 6, 7, 8])]);
    const inflater = createNative();
    const out = Buffer.alloc(plain.length + 1024);
    let inOff = 0;
    let outOff = 0;
    let boundaries = 0;
    let ended = false;
    for (let guard = 0; guard < 10_000 && !ended; guard++) {
      const stop = inflater.write(Z_BLOCK, compressed, inOff, compressed.length - inOff, out, outOff, out.length - outOff);
      inOff += inflater.consumed;
      outOff += inflater.produced;
      if (stop === 'boundary') boundaries++;
      else if (stop === 'end') ended = true;
      else return (verdict = { ok: false, reason: `unexpected stop ${stop}` });
    }
    inflater.close();
    if (!out.subarray(0, outOff).equals(plain)) return (verdict = { ok: false, reason: 'output differs' });
    if (!ended || inOff !== deflated.length) return (verdict = { ok: false, reason: 'end of stream not detected' });
    if (boundaries < 2) return (verdict = { ok: false, reason: 'Z_BLOCK did not stop at block boundaries' });
    return (verdict = { ok: true });
  } catch (err) {
    return (verdict = { ok: false, reason: err instanceof Error ? err.message : String(err) });
  }
}

export const nativeInflaterFactory: InflaterFactory = { engine: 'native', create: createNative };
