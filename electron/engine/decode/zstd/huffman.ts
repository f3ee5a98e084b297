// Huffman literals (RFC 8878 4.2): the tree description (weights, direct or FSE-compressed), the
// decoding table built from the weights, and the backward streams. The weights are what a checkpoint
// keeps for Treeless_Literals_Block reuse; the table is rebuilt from them.
import { fault } from './fault';
import { FseTable, readFseTable } from './fse';

const MAX_BITS = 11;

export class HuffmanTable {
  maxBits = 0;
  /** Indexed by the next maxBits bits of the stream: (symbol << 4) | code length. */
  readonly entries = new Uint16Array(1 << MAX_BITS);
  /** Weights of symbols 0..255 (0 = absent); kept so the table can be saved and rebuilt. */
  readonly weights = new Uint8Array(256);
  present = false;

  /** Builds the decoding table from weights[0..n); the caller has filled in the last, implied weight. */
  build(weights: Uint8Array, n: number): void {
    let total = 0;
    for (let i = 0; i < n; i++) {
      const w = weights[i]!;
      if (w > MAX_BITS + 1) fault('Huffman weight is over the limit');
      if (w > 0) total += 1 << (w - 1);
    }
    const maxBits = 31 - Math.clz32(total);
    if (total === 0 || total !== 1 << maxBits || maxBits > MAX_BITS) fault('Huffman weights do not form a complete code');
    // A weight above maxBits means a single symbol with a zero-length code: not a valid tree.
    for (let i = 0; i < n; i++) if (weights[i]! > maxBits) fault('Huffman tree has fewer than two symbols');
    this.maxBits = maxBits;
    this.weights.fill(0);
    this.weights.set(weights.subarray(0, n));
    // Codes are handed out from the lowest weight up, symbols in order within a weight: the table index
    // of a code's first entry is the running total of the entries before it.
    const starts = new Uint32Array(MAX_BITS + 2);
    const perWeight = new Uint32Array(MAX_BITS + 2);
    for (let i = 0; i < n; i++) perWeight[weights[i]!]!++;
    let at = 0;
    for (let w = 1; w <= maxBits; w++) {
      starts[w] = at;
      at += perWeight[w]! << (w - 1);
    }
    for (let s = 0; s < n; s++) {
      const w = weights[s]!;
      if (w === 0) continue;
      const len = 1 << (w - 1);
      const entry = (s << 4) | (maxBits + 1 - w);
      const from = starts[w]!;
      this.entries.fill(entry, from, from + len);
      starts[w] = from + len;
    }
    this.present = true;
  }

  /** Rebuilds from saved weights (all 256, the implied last weight included). */
  restore(weights: Uint8Array): void {
    let n = 256;
    while (n > 0 && weights[n - 1] === 0) n--;
    this.build(weights, n);
  }
}

const fseWeights = new FseTable(6);
const scratchWeights = new Uint8Array(256);

/** Reads a Huffman tree description at src[start..end) into `table`; returns the bytes it used. */
export function readHuffmanTree(table: HuffmanTable, src: Uint8Array, start: number, end: number): number {
  if (start >= end) fault('Huffman tree description is missing');
  const header = src[start]!;
  const w = scratchWeights;
  w.fill(0);
  let n: number;
  let used: number;
  if (header >= 128) {
    n = header - 127;
    used = 1 + ((n + 1) >>> 1);
    if (start + used > end) fault('Huffman tree description is cut short');
    for (let i = 0; i < n; i++) {
      const b = src[start + 1 + (i >>> 1)]!;
      w[i] = i & 1 ? b & 15 : b >>> 4;
    }
  } else {
    used = 1 + header;
    if (start + used > end) fault('Huffman tree description is cut short');
    const tableBytes = readFseTable(fseWeights, src, start + 1, start + used, 6, 11);
    n = decodeWeights(fseWeights, src, start + 1 + tableBytes, start + used, w);
  }
  if (n > 255) fault('Huffman tree description has too many weights');
  // The last symbol's weight is implied: whatever completes the total to a power of two.
  let total = 0;
  for (let i = 0; i < n; i++) if (w[i]! > 0) total += 1 << (w[i]! - 1);
  if (total === 0) fault('Huffman tree description has no symbols');
  const maxBits = 32 - Math.clz32(total);
  const rest = (1 << maxBits) - total;
  if ((rest & (rest - 1)) !== 0) fault('Huffman weights cannot be completed to a power of two');
  w[n] = 32 - Math.clz32(rest);
  table.build(w, n + 1);
  return used;
}

/** Two interleaved FSE states over one backward stream; bits past its start read as zero (RFC 8878 4.2.1.2). */
function decodeWeights(t: FseTable, src: Uint8Array, start: number, end: number, out: Uint8Array): number {
  if (end <= start) fault('Huffman weights stream is empty');
  const last = src[end - 1]!;
  if (last === 0) fault('Huffman weights stream has no end marker');
  let pos = (end - 1 - start) * 8 + (31 - Math.clz32(last));
  const read = (n: number): number => {
    pos -= n;
    let v = 0;
    for (let i = n - 1; i >= 0; i--) {
      const b = pos + i;
      v = (v << 1) | (b < 0 ? 0 : (src[start + (b >>> 3)]! >>> (b & 7)) & 1);
    }
    return v;
  };
  let s1 = read(t.log);
  let s2 = read(t.log);
  let n = 0;
  for (;;) {
    if (n > 253) fault('Huffman weights stream decodes too many weights');
    out[n++] = t.symbol[s1]!;
    s1 = t.baseline[s1]! + read(t.nbBits[s1]!);
    if (pos < 0) {
      out[n++] = t.symbol[s2]!;
      break;
    }
    out[n++] = t.symbol[s2]!;
    s2 = t.baseline[s2]! + read(t.nbBits[s2]!);
    if (pos < 0) {
      out[n++] = t.symbol[s1]!;
      break;
    }
  }
  return n;
}

/**
 * Decodes one backward Huffman stream src[start..end) into out[o..oEnd); the stream must be used up exactly.
 * The hot loop peeks maxBits bits from a 32-bit load at the bit position; `src` must have 3 readable bytes
 * past `end` (the block buffer's zero pad).
 */
export function decodeHuffmanStream(t: HuffmanTable, src: Uint8Array, start: number, end: number, out: Uint8Array, o: number, oEnd: number): void {
  if (end <= start) fault('Huffman stream is empty');
  const last = src[end - 1]!;
  if (last === 0) fault('Huffman stream has no end marker');
  const e = t.entries;
  const mb = t.maxBits;
  const mask = (1 << mb) - 1;
  const base = start * 8;
  let pos = (end - 1) * 8 + (31 - Math.clz32(last));
  // While at least maxBits bits remain, a peek never reaches before the stream's start. The 4-byte load
  // may run up to 3 bytes past the stream: the block buffer is padded for that.
  const safeEnd = base + mb;
  const dv = new DataView(src.buffer, src.byteOffset, src.byteLength);
  while (o < oEnd && pos >= safeEnd) {
    const p = pos - mb;
    const entry = e[(dv.getUint32(p >>> 3, true) >>> (p & 7)) & mask]!;
    out[o++] = entry >>> 4;
    pos -= entry & 15;
  }
  // The stream's last few codes: bits before the start read as zero.
  while (o < oEnd) {
    const p = pos - mb;
    let v = 0;
    for (let k = mb - 1; k >= 0; k--) {
      const b = p + k;
      v = (v << 1) | (b < base ? 0 : (src[b >>> 3]! >>> (b & 7)) & 1);
    }
    const entry = e[v]!;
    out[o++] = entry >>> 4;
    pos -= entry & 15;
    if (pos < base) fault('Huffman stream is shorter than its literals');
  }
  if (pos !== base) fault('Huffman stream is not used up exactly');
}
