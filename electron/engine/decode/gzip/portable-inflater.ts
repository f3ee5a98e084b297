// pako's JavaScript port of zlib's inflate, used where Node's native handle cannot be stepped block by
// block. Slower (about a third of native), but it reports the exact bit position at each boundary.
import * as pako from 'pako';
import { Z_BLOCK, type InflateFlush, type InflateStop, type InflaterFactory, type RawInflater } from './raw-inflater';

const EMPTY = new Uint8Array(0);

class PortableInflater implements RawInflater {
  readonly exactBitPosition = true;
  consumed = 0;
  produced = 0;
  unusedBits = 0;
  afterFinalBlock = false;
  private readonly strm = new pako.ZStream();
  private ended = false;

  constructor(private readonly dictionary?: Uint8Array) {
    check(pako.zlibInflateInit2(this.strm, -15), this.strm);
    this.setDictionary();
  }

  private setDictionary(): void {
    if (this.dictionary && this.dictionary.length > 0) check(pako.zlibInflateSetDictionary(this.strm, this.dictionary), this.strm);
  }

  reset(): void {
    check(pako.zlibInflateReset(this.strm), this.strm);
    this.setDictionary();
    this.ended = false;
  }

  write(flush: InflateFlush, input: Uint8Array, inOffset: number, inLength: number, output: Uint8Array, outOffset: number, outLength: number): InflateStop {
    const strm = this.strm;
    if (this.ended) {
      this.consumed = 0;
      this.produced = 0;
      return inLength === 0 ? 'input' : 'end';
    }
    strm.input = input;
    strm.next_in = inOffset;
    strm.avail_in = inLength;
    // pako writes into strm.output at next_out; a view keeps the caller's buffer as the target.
    strm.output = output as Uint8Array<ArrayBuffer>;
    strm.next_out = outOffset;
    strm.avail_out = outLength;
    const status = pako.zlibInflate(strm, flush);
    this.consumed = inLength - strm.avail_in;
    this.produced = outLength - strm.avail_out;
    strm.input = EMPTY;
    if (status === pako.Z_STREAM_END) {
      this.ended = true;
      return 'end';
    }
    if (status !== pako.Z_OK && status !== pako.Z_BUF_ERROR) check(status, strm);
    // data_type: bit 7 = stopped at a block boundary, bit 6 = the final block was seen, low 3 bits =
    // unused bits of the last byte.
    if (flush === Z_BLOCK && (strm.data_type & 128) !== 0) {
      this.unusedBits = strm.data_type & 7;
      this.afterFinalBlock = (strm.data_type & 64) !== 0;
      return 'boundary';
    }
    if (strm.avail_in === 0) return 'input';
    return 'output';
  }

  close(): void {
    pako.zlibInflateEnd(this.strm);
  }
}

function check(status: number, strm: pako.ZStream): void {
  if (status !== pako.Z_OK) throw new Error(strm.msg || `inflate error ${status}`);
}

export const portableInflaterFactory: InflaterFactory = {
  engine: 'portable',
  create: (dictionary) => new PortableInflater(dictionary),
};
