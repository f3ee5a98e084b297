// Finds the bit position of a block boundary found by an inflater that hides it (Node's native one).
// At a boundary zlib has consumed C whole bytes and keeps 0..7 unused bits of byte C-1, so the next
// block starts at one of eight bit positions. Each candidate is tried: a fresh inflater with the same
// window is primed at that position and must reproduce the real decoder's next output exactly and stop
// on a block boundary at the same input byte. Wrong candidates often decode without error for a while
// (random bits are valid Huffman data surprisingly often), which is why the whole block is compared.
import { primeBytes } from './prime';
import { Z_BLOCK, type InflaterFactory, type RawInflater } from './raw-inflater';

export interface BoundaryEvidence {
  /** Window (last <= 32 KiB of output) at the boundary. */
  dictionary: Uint8Array;
  /** File offset of the first byte the real decoder had not consumed at the boundary. */
  consumedAtBoundary: number;
  /** Compressed bytes starting at file offset `compressedStart` (<= consumedAtBoundary - 1). */
  compressed: readonly Buffer[];
  compressedStart: number;
  /** File offset of the first byte not consumed when the real decoder next stopped on a boundary. */
  consumedAtNextBoundary: number;
  /** What the real decoder produced between the two boundaries. */
  output: readonly Buffer[];
}

export interface BitPosition {
  /** File offset of the byte holding the first bit of the next block. */
  compressedOffset: number;
  /** Bits of that byte already used by the previous block, least significant first (0..7). */
  bitOffset: number;
}

const SCRATCH_BYTES = 64 * 1024;

/**
 * Every candidate position (of `among`, else all eight) that reproduces the evidence; the true one is
 * always among them. Several can match when the next block is stored: its 3 header bits may be read at
 * other positions as "stored" too, after which all skip to the same byte.
 */
export function matchingBitPositions(factory: InflaterFactory, evidence: BoundaryEvidence, among?: readonly BitPosition[]): BitPosition[] {
  // Candidates never need more than one byte past the real decoder's stop.
  const needed = evidence.consumedAtNextBoundary + 1 - evidence.compressedStart;
  const compressed = evidence.compressed.length === 1 ? evidence.compressed[0]!.subarray(0, needed) : concatPrefix(evidence.compressed, needed);
  const scratch = Buffer.allocUnsafe(SCRATCH_BYTES);
  const matches: BitPosition[] = [];
  const inflater = factory.create(evidence.dictionary);
  try {
    for (let unused = 0; unused < 8; unused++) {
      const position: BitPosition =
        unused === 0 ? { compressedOffset: evidence.consumedAtBoundary, bitOffset: 0 } : { compressedOffset: evidence.consumedAtBoundary - 1, bitOffset: 8 - unused };
      if (position.compressedOffset < evidence.compressedStart) continue;
      if (among && !among.some((p) => p.compressedOffset === position.compressedOffset && p.bitOffset === position.bitOffset)) continue;
      if (unused > 0) inflater.reset();
      if (reproduces(inflater, evidence, compressed, position, scratch)) matches.push(position);
    }
  } finally {
    inflater.close();
  }
  return matches;
}

function reproduces(inflater: RawInflater, evidence: BoundaryEvidence, compressed: Buffer, position: BitPosition, scratch: Buffer): boolean {
  const expected = new OutputCursor(evidence.output);
  const at = position.compressedOffset - evidence.compressedStart;
  const prime = position.bitOffset === 0 ? undefined : primeBytes(position.bitOffset, compressed[at]!);
  const fileStart = position.bitOffset === 0 ? at : at + 1;
  try {
    if (prime) {
      // Empty blocks only: stops on their boundaries, no output, all of it consumed.
      let off = 0;
      for (let guard = 0; off < prime.length && guard < 16; guard++) {
        inflater.write(Z_BLOCK, prime, off, prime.length - off, scratch, 0, scratch.length);
        if (inflater.produced !== 0) return false;
        off += inflater.consumed;
      }
      if (off !== prime.length) return false;
    }
    let inAt = fileStart;
    for (let guard = 0; guard < 1_000_000; guard++) {
      const outRoom = Math.min(scratch.length, expected.remaining + 1);
      const stop = inflater.write(Z_BLOCK, compressed, inAt, compressed.length - inAt, scratch, 0, outRoom);
      inAt += inflater.consumed;
      if (!expected.matches(scratch, inflater.produced)) return false;
      if (stop === 'output') continue;
      if (stop !== 'boundary') return false;
      const consumedInFile = evidence.compressedStart + inAt;
      if (expected.remaining === 0 && consumedInFile === evidence.consumedAtNextBoundary) return true;
      if (consumedInFile >= evidence.consumedAtNextBoundary) return false;
    }
    return false;
  } catch {
    return false; // corrupt data at a wrong position
  }
}

function concatPrefix(pieces: readonly Buffer[], length: number): Buffer {
  const out = Buffer.allocUnsafe(
    Math.min(
      length,
      pieces.reduce((n, p) => n + p.length, 0),
    ),
  );
  let at = 0;
  for (const piece of pieces) {
    if (at >= out.length) break;
    at += piece.copy(out, at, 0, Math.min(piece.length, out.length - at));
  }
  return out;
}

/** Compares produced output against the expected buffers, in order. */
class OutputCursor {
  private index = 0;
  private offset = 0;
  remaining: number;
  constructor(private readonly buffers: readonly Buffer[]) {
    this.remaining = buffers.reduce((n, b) => n + b.length, 0);
  }

  matches(data: Buffer, length: number): boolean {
    if (length > this.remaining) return false;
    let done = 0;
    while (done < length) {
      const current = this.buffers[this.index]!;
      const n = Math.min(current.length - this.offset, length - done);
      if (n === 0) {
        this.index++;
        this.offset = 0;
        continue;
      }
      if (data.compare(current, this.offset, this.offset + n, done, done + n) !== 0) return false;
      done += n;
      this.offset += n;
      if (this.offset === current.length) {
        this.index++;
        this.offset = 0;
      }
    }
    this.remaining -= length;
    return true;
  }
}
