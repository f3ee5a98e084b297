// Emulates zlib's inflatePrime(), which Node does not expose: to start a raw inflater at bit `bitOffset`
// of a byte, we prefix empty non-final deflate blocks whose total length makes the byte's remaining
// (8 - bitOffset) bits land on a byte boundary. Empty blocks produce no output and leave the window
// (the preset dictionary) untouched, so the inflater then continues exactly as if primed.

/** An empty fixed-Huffman block: BFINAL=0, BTYPE=01, then the 7-bit end-of-block code. 10 bits. */
const EMPTY_FIXED_BITS = 10;

/**
 * An empty dynamic-Huffman block of 91 bits (odd, unlike the fixed block, so odd shifts are reachable).
 * HLIT=0 (257 lengths), HDIST=1 (2 lengths), HCLEN=14 (18 code-length lengths: symbols 18 and 1 get
 * length 1, a complete code). Lengths: 256 zeros as two runs of code 18 (138 + 118), then length 1 for
 * the end-of-block symbol and for both distance codes (a complete distance code), then end-of-block.
 */
function writeEmptyDynamicBlock(w: BitWriter): void {
  w.bits(0, 1); // BFINAL
  w.bits(2, 2); // BTYPE = dynamic
  w.bits(0, 5); // HLIT
  w.bits(1, 5); // HDIST
  w.bits(14, 4); // HCLEN
  // Code-length code lengths in the RFC 1951 order 16,17,18,0,8,7,9,6,10,5,11,4,12,3,13,2,14,1.
  const order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1];
  for (const symbol of order) w.bits(symbol === 18 || symbol === 1 ? 1 : 0, 3);
  // Canonical codes: symbol 1 -> "0", symbol 18 -> "1" (one bit each, so bit order does not matter).
  w.bits(1, 1);
  w.bits(138 - 11, 7); // 18: 138 zeros
  w.bits(1, 1);
  w.bits(118 - 11, 7); // 18: 118 zeros
  w.bits(0, 1); // 1: literal/length 256
  w.bits(0, 1); // 1: distance 0
  w.bits(0, 1); // 1: distance 1
  w.bits(0, 1); // end-of-block: the only literal/length code, "0"
}
const EMPTY_DYNAMIC_BITS = 91;

class BitWriter {
  private readonly out: number[] = [];
  private acc = 0;
  private count = 0;

  /** Appends `n` bits of `value`, least significant first (deflate's bit order for header fields). */
  bits(value: number, n: number): void {
    for (let i = 0; i < n; i++) {
      this.acc |= ((value >>> i) & 1) << this.count;
      if (++this.count === 8) {
        this.out.push(this.acc);
        this.acc = 0;
        this.count = 0;
      }
    }
  }

  get bitLength(): number {
    return this.out.length * 8 + this.count;
  }

  toBuffer(): Buffer {
    if (this.count !== 0) throw new Error('BitWriter: not byte-aligned');
    return Buffer.from(this.out);
  }
}

/**
 * Bytes to feed a fresh raw inflater so that it continues at bit `bitOffset` (0..7, LSB first) of
 * `boundaryByte`. The returned bytes replace `boundaryByte`; the caller then feeds the bytes after it.
 * For bitOffset 0 nothing needs replacing: the caller feeds from `boundaryByte` itself and this returns
 * an empty buffer.
 */
export function primeBytes(bitOffset: number, boundaryByte: number): Buffer {
  if (!Number.isInteger(bitOffset) || bitOffset < 0 || bitOffset > 7) throw new RangeError(`bitOffset ${bitOffset}`);
  if (bitOffset === 0) return Buffer.alloc(0);
  const w = new BitWriter();
  // The prefix length must be congruent to bitOffset mod 8: fixed blocks add 2 (mod 8), the dynamic one 3.
  let fixedBlocks = bitOffset;
  if (bitOffset % 2 === 1) {
    writeEmptyDynamicBlock(w);
    fixedBlocks = (bitOffset - 3 + 8) % 8;
  }
  for (let i = 0; i < fixedBlocks / 2; i++) {
    w.bits(0, 1); // BFINAL
    w.bits(1, 2); // BTYPE = fixed
    w.bits(0, 7); // end-of-block (code 256 is seven zero bits)
  }
  w.bits(boundaryByte >>> bitOffset, 8 - bitOffset);
  return w.toBuffer();
}

export const PRIME_BLOCK_BITS = { fixed: EMPTY_FIXED_BITS, dynamic: EMPTY_DYNAMIC_BITS } as const;
