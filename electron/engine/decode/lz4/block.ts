// The lz4 block format: sequences of a token (literal length, match length), literals, a 2-byte offset
// back into the output and a match of at least 4 bytes; the last sequence has literals only. Decodes one
// block from `src` into `dst` after `dst[historyStart, at)`, the bytes a match may reach back into (the
// block's own output, and with linked blocks the previous 64 KiB of the frame).

/** Why a block could not be decoded, and where in its compressed data. */
export class BlockError extends Error {
  constructor(
    message: string,
    /** Offset inside the block's compressed data. */
    readonly at: number,
  ) {
    super(message);
  }
}

/** Below this length a byte loop beats the call into a typed-array copy. */
const SHORT_COPY = 16;

/**
 * Decodes src[start, end) into dst from `at`, writing at most `limit` bytes. Returns the output length.
 * Throws BlockError on a malformed block: a length running past the input, output past `limit`, an offset
 * of 0 or reaching before `historyStart`, or a block that does not end with literals.
 */
export function decodeBlock(source: Uint8Array, start: number, end: number, target: Uint8Array, at: number, limit: number, historyStart: number): number {
  // Plain Uint8Array views: Buffer's own subarray is slow, and one element kind keeps the loop monomorphic.
  const src = new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  const dst = new Uint8Array(target.buffer, target.byteOffset, target.byteLength);
  let ip = start;
  let op = at;
  const outEnd = at + limit;
  for (;;) {
    if (ip >= end) throw new BlockError('the block ends without its last literals', ip - start);
    const token = src[ip++]!;
    let lit = token >>> 4;
    if (lit === 15) {
      let b: number;
      do {
        if (ip >= end) throw new BlockError('a literal length runs past the block', ip - start);
        b = src[ip++]!;
        lit += b;
      } while (b === 255);
    }
    if (lit > 0) {
      if (ip + lit > end) throw new BlockError('literals run past the block', ip - start);
      if (op + lit > outEnd) throw new BlockError('the block decodes to more than its maximum size', ip - start);
      if (lit < SHORT_COPY) {
        for (let k = 0; k < lit; k++) dst[op + k] = src[ip + k]!;
      } else {
        dst.set(src.subarray(ip, ip + lit), op);
      }
      ip += lit;
      op += lit;
    }
    if (ip === end) return op - at; // the last sequence: literals only
    if (ip + 2 > end) throw new BlockError('a match offset runs past the block', ip - start);
    const offset = src[ip]! | (src[ip + 1]! << 8);
    const offsetAt = ip - start;
    ip += 2;
    let len = (token & 15) + 4;
    if (len === 19) {
      let b: number;
      do {
        if (ip >= end) throw new BlockError('a match length runs past the block', ip - start);
        b = src[ip++]!;
        len += b;
      } while (b === 255);
    }
    if (offset === 0) throw new BlockError('a match with offset 0', offsetAt);
    const from = op - offset;
    if (from < historyStart) throw new BlockError(`a match reaches ${offset} bytes back, before the start of the history`, offsetAt);
    if (op + len > outEnd) throw new BlockError('the block decodes to more than its maximum size', offsetAt);
    if (len < SHORT_COPY) {
      // Byte by byte also repeats an overlapping pattern correctly.
      for (let k = 0; k < len; k++) dst[op + k] = dst[from + k]!;
    } else if (offset >= len) {
      dst.copyWithin(op, from, from + len);
    } else {
      copyRepeating(dst, from, op, len);
    }
    op += len;
  }
}

/** An overlapping match: the pattern of `op - from` bytes repeats; each copy doubles what can be copied next. */
function copyRepeating(dst: Uint8Array, from: number, op: number, len: number): void {
  let d = op;
  let left = len;
  while (left > 0) {
    const n = Math.min(d - from, left);
    dst.copyWithin(d, from, from + n);
    d += n;
    left -= n;
  }
}
