// The literals section of a compressed block (RFC 8878 3.1.1.3.1): raw, RLE, Huffman with a new tree, or
// Huffman reusing the previous block's tree (treeless). The literals always land in `buf` at `at` (the
// window buffer's literal area), so sequence execution copies them with copyWithin inside one buffer.
import { fault } from './fault';
import { decodeHuffmanStream, readHuffmanTree, type HuffmanTable } from './huffman';

export const MAX_BLOCK = 128 * 1024;

/** Where the block's literals are after `readLiterals`, and how many input bytes the section used. */
export interface Literals {
  src: Buffer;
  start: number;
  length: number;
  used: number;
}

export function readLiterals(src: Buffer, start: number, end: number, huf: HuffmanTable, buf: Buffer, at: number, out: Literals): void {
  if (start >= end) fault('Literals section is missing');
  const b0 = src[start]!;
  const type = b0 & 3;
  const sf = (b0 >>> 2) & 3;
  if (type < 2) {
    let regen: number;
    let hdr: number;
    if (sf === 0 || sf === 2) {
      regen = b0 >>> 3;
      hdr = 1;
    } else if (sf === 1) {
      regen = (b0 >>> 4) + (src[start + 1]! << 4);
      hdr = 2;
    } else {
      regen = (b0 >>> 4) + (src[start + 1]! << 4) + (src[start + 2]! << 12);
      hdr = 3;
    }
    if (start + hdr > end) fault('Literals header is cut short');
    if (regen > MAX_BLOCK) fault('Literals are larger than a block');
    if (type === 0) {
      if (start + hdr + regen > end) fault('Raw literals run past the block');
      src.copy(buf, at, start + hdr, start + hdr + regen);
      out.used = hdr + regen;
    } else {
      if (start + hdr + 1 > end) fault('RLE literals run past the block');
      buf.fill(src[start + hdr]!, at, at + regen);
      out.used = hdr + 1;
    }
    out.src = buf;
    out.start = at;
    out.length = regen;
    return;
  }
  let regen: number;
  let comp: number;
  let hdr: number;
  const streams = sf === 0 ? 1 : 4;
  if (sf < 2) {
    if (start + 3 > end) fault('Literals header is cut short');
    const h = b0 | (src[start + 1]! << 8) | (src[start + 2]! << 16);
    regen = (h >>> 4) & 0x3ff;
    comp = (h >>> 14) & 0x3ff;
    hdr = 3;
  } else if (sf === 2) {
    if (start + 4 > end) fault('Literals header is cut short');
    const h = (b0 | (src[start + 1]! << 8) | (src[start + 2]! << 16) | (src[start + 3]! << 24)) >>> 0;
    regen = (h >>> 4) & 0x3fff;
    comp = h >>> 18;
    hdr = 4;
  } else {
    if (start + 5 > end) fault('Literals header is cut short');
    const h = (b0 | (src[start + 1]! << 8) | (src[start + 2]! << 16) | (src[start + 3]! << 24)) >>> 0;
    regen = (h >>> 4) & 0x3ffff;
    comp = (h >>> 22) + (src[start + 4]! << 10);
    hdr = 5;
  }
  if (regen > MAX_BLOCK) fault('Literals are larger than a block');
  let p = start + hdr;
  const litEnd = p + comp;
  if (litEnd > end) fault('Compressed literals run past the block');
  if (type === 2) {
    p += readHuffmanTree(huf, src, p, litEnd);
  } else if (!huf.present) {
    fault('Treeless literals with no previous Huffman table');
  }
  if (streams === 1) {
    decodeHuffmanStream(huf, src, p, litEnd, buf, at, at + regen);
  } else {
    if (p + 6 > litEnd) fault('Literals jump table is cut short');
    const s1 = src[p]! | (src[p + 1]! << 8);
    const s2 = src[p + 2]! | (src[p + 3]! << 8);
    const s3 = src[p + 4]! | (src[p + 5]! << 8);
    const a = p + 6;
    const b = a + s1,
      c = b + s2,
      d = c + s3;
    if (d + 1 > litEnd) fault('Literals jump table points past the streams');
    const q = (regen + 3) >>> 2;
    if (3 * q > regen) fault('Four-stream literals are too few for their streams');
    decodeHuffmanStream(huf, src, a, b, buf, at, at + q);
    decodeHuffmanStream(huf, src, b, c, buf, at + q, at + 2 * q);
    decodeHuffmanStream(huf, src, c, d, buf, at + 2 * q, at + 3 * q);
    decodeHuffmanStream(huf, src, d, litEnd, buf, at + 3 * q, at + regen);
  }
  out.src = buf;
  out.start = at;
  out.length = regen;
  out.used = litEnd - start;
}
