// A raw-deflate inflater that can be stepped block by block. Two engines share this shape: Node's native
// zlib driven through its internal handle (fast; stops at block boundaries but hides the bit position),
// and pako's port of zlib (portable; reports the exact bit position). See native-inflater.ts and
// portable-inflater.ts.

export const Z_NO_FLUSH = 0;
export const Z_BLOCK = 5;
export type InflateFlush = typeof Z_NO_FLUSH | typeof Z_BLOCK;

/**
 * Why a write returned:
 * - `input`: all input consumed (it may also sit exactly on a block boundary: not knowable here);
 * - `output`: the output space is full (same caveat);
 * - `boundary`: (Z_BLOCK only) it stopped right after a block's end-of-block code;
 * - `end`: the deflate stream is complete; `consumed` bytes of this write belong to it.
 */
export type InflateStop = 'input' | 'output' | 'boundary' | 'end';

export interface RawInflater {
  /** True if `unusedBits` is exact at every boundary (no need to infer the bit position). */
  readonly exactBitPosition: boolean;
  /** Set by write: bytes of input consumed and bytes of output produced by that call. */
  consumed: number;
  produced: number;
  /** At a `boundary` stop of an exact inflater: bits of the last consumed byte not yet used (0..7). */
  unusedBits: number;
  /** At a `boundary` stop of an exact inflater: the block that just ended was the final one. */
  afterFinalBlock: boolean;
  /** Inflates; throws an Error with zlib's message on corrupt data. */
  write(flush: InflateFlush, input: Uint8Array, inOffset: number, inLength: number, output: Uint8Array, outOffset: number, outLength: number): InflateStop;
  /** Back to the state right after creation (same dictionary), cheaper than a new inflater. */
  reset(): void;
  close(): void;
}

export type InflaterEngine = 'native' | 'portable';

export interface InflaterFactory {
  readonly engine: InflaterEngine;
  create(dictionary?: Uint8Array): RawInflater;
}
